"""The sandbox over HTTP: its paths, credit, the page and JSON of what it received, counters."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from bridge.upstream import IsmsSandbox, SandboxFaults

FORM = {"un": "isms", "pwd": "isms123", "dstno": "60123456789", "msg": "hi", "agreedterm": "YES"}


async def post(url: str, form: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
        return response.status, await response.text()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_send_answers_success_with_a_unique_id(sandbox: IsmsSandbox) -> None:
    replies = {(await post(sandbox.url(), {**FORM, "type": "1"}))[1] for _ in range(3)}
    assert len(replies) == 3 and all(r.startswith("2000 = SUCCESS:") for r in replies)


async def test_reply_has_no_trailing_newline(sandbox: IsmsSandbox) -> None:
    _, body = await post(sandbox.url(), {**FORM, "type": "1"})
    assert body == body.strip()


async def test_get_query_and_post_form_are_both_read(sandbox: IsmsSandbox) -> None:
    query = "&".join(f"{k}={v}" for k, v in {**FORM, "type": "1"}.items())
    status, body = await get(f"{sandbox.url()}?{query}")
    assert (status, body[:4]) == (200, "2000")


async def test_legacy_script_answers_without_an_id(sandbox: IsmsSandbox) -> None:
    assert (await post(sandbox.url("isms_send.php"), {**FORM, "type": "1"}))[1] == "2000 = SUCCESS"


async def test_missing_parameter_answers_1008(sandbox: IsmsSandbox) -> None:
    assert (await post(sandbox.url(), FORM))[1] == "-1008 = MISSING PARAMETER"


async def test_default_account_is_the_api_pages_example() -> None:
    async with IsmsSandbox() as default:
        assert (await post(default.url(), {**FORM, "type": "1"}))[1].startswith("2000")
        assert default.accounts == {"isms": "isms123"}


async def test_each_message_spends_credit_per_part_until_1004(sandbox: IsmsSandbox) -> None:
    sandbox.balances["isms"] = 3
    two_parts = {**FORM, "type": "2", "msg": "你" * 64}
    assert (await post(sandbox.url(), two_parts))[1].startswith("2000")
    assert sandbox.balances["isms"] == 1
    assert (await post(sandbox.url(), two_parts))[1] == "-1004 = INSUFFICIENT CREDITS"
    assert sandbox.balances["isms"] == 1


async def test_balance_script_answers_the_bare_balance(sandbox: IsmsSandbox) -> None:
    status, body = await get(f"{sandbox.url('isms_balance.php')}?un=isms&pwd=isms123")
    assert (status, body) == (200, "10000")


async def test_balance_with_wrong_password_answers_1001(sandbox: IsmsSandbox) -> None:
    _, body = await post(sandbox.url("isms_balance.php"), {"un": "isms", "pwd": "x"})
    assert body == "-1001 = AUTHENTICATION FAILED"


async def test_rest_takes_a_recipient_list_and_answers_a_json_string(sandbox: IsmsSandbox) -> None:
    document = {
        "sendid": "MOBIWEBDemo",
        "recipient": [{"dstno": "60164502380", "msg": "hello isms", "type": "1"}],
        "agreedterm": "YES",
        "method": "isms_send_all_id",
    }
    auth = "Basic " + base64.b64encode(b"isms:isms123").decode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            sandbox.url("RESTAPI.php"), json=document, headers={"Authorization": auth}
        ) as response,
    ):
        body = json.loads(await response.text())
    assert body.startswith("2000 = SUCCESS:")
    assert sandbox.messages[-1].destinations == ("60164502380",)


async def test_rest_without_a_method_sends_nothing(sandbox: IsmsSandbox) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(sandbox.url("RESTAPI.php"), json={"dstno": "60164502380"}) as response,
    ):
        assert json.loads(await response.text()) == "-1008 = MISSING PARAMETER"


async def test_configured_result_code_answers_every_valid_send() -> None:
    async with IsmsSandbox(faults=SandboxFaults(result_code=-1002)) as failing:
        _, body = await post(failing.url(), {**FORM, "type": "1"})
    assert body == "-1002 = ACCOUNT SUSPENDED / EXPIRED"


async def test_configured_result_code_does_not_hide_a_real_validation_error() -> None:
    async with IsmsSandbox(faults=SandboxFaults(result_code=-1002)) as failing:
        assert (await post(failing.url(), FORM))[1] == "-1008 = MISSING PARAMETER"


async def test_page_lists_recent_messages_escaped(sandbox: IsmsSandbox) -> None:
    await post(sandbox.url(), {**FORM, "type": "1", "msg": "<script>x</script>"})
    status, page = await get(f"http://127.0.0.1:{sandbox.port}/")
    assert status == 200 and "&lt;script&gt;x&lt;/script&gt;" in page and "<script>" not in page
    assert "isms123" not in page


async def test_json_lists_recent_messages_newest_first_without_passwords(
    sandbox: IsmsSandbox,
) -> None:
    for text in ("first", "second"):
        await post(sandbox.url(), {**FORM, "type": "1", "msg": text})
    _, body = await get(f"http://127.0.0.1:{sandbox.port}/messages.json")
    snapshot = json.loads(body)
    assert [m["text"] for m in snapshot["messages"]] == ["second", "first"]
    assert snapshot["send_requests"] == 2 and "isms123" not in body


async def test_history_is_bounded() -> None:
    async with IsmsSandbox(history=3) as small:
        for i in range(5):
            await post(small.url(), {**FORM, "type": "1", "msg": str(i)})
        assert [m.text for m in small.messages] == ["2", "3", "4"]
        assert small.send_requests == 5


async def test_start_twice_is_refused(sandbox: IsmsSandbox) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        await sandbox.start()
