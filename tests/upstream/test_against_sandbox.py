"""IsmsClient against the sandbox over real loopback sockets, with every HTTP adapter.

Reserved destination numbers (bridge/upstream/sandbox/faults.py) pick each fault.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from bridge.pdu import CommandStatus
from bridge.pipeline import StatusMapping, unicode_retry
from bridge.upstream import (
    DEFAULT_BREAKER_FAILURES,
    Api,
    BalancePoller,
    BalanceReading,
    BreakerState,
    HttpClientKind,
    HttpMethod,
    IsmsClient,
    IsmsCredentials,
    IsmsMessage,
    IsmsSandbox,
    IsmsSettings,
    Outcome,
    SandboxFaults,
    SendResult,
    SmsType,
)

ACCOUNT = IsmsCredentials(username="isms", password="isms123")
ADAPTERS = list(HttpClientKind)
ClientFactory = Callable[..., IsmsClient]


@pytest.fixture(params=ADAPTERS, ids=lambda kind: kind.value)
async def make_client(
    request: pytest.FixtureRequest, sandbox: IsmsSandbox
) -> AsyncIterator[ClientFactory]:
    """Clients on the chosen adapter; by default one mirror, the sandbox."""
    made: list[IsmsClient] = []

    def make(endpoints: tuple[str, ...] | None = None, **settings: object) -> IsmsClient:
        config = IsmsSettings(
            endpoints=endpoints or (sandbox.url(),),
            http_client=request.param,
            connect_timeout_s=2.0,
            timeout_s=settings.pop("timeout_s", 5.0),  # type: ignore[arg-type]
            **settings,  # type: ignore[arg-type]
        )
        client = IsmsClient(config)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def message(
    *destinations: str, text: str = "Hello from the bridge", sms_type: SmsType = SmsType.ASCII
) -> IsmsMessage:
    return IsmsMessage(
        credentials=ACCOUNT,
        destinations=destinations or ("60123456789",),
        text=text,
        sms_type=sms_type,
        sender_id="MyBrand",
        reference="test/1",
    )


# -- every row of the status mapping, end to end (expected statuses written from the issue) --

MAPPING_ROWS = [
    ("60000001000", CommandStatus.ESME_RSYSERR),
    ("60000001001", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001002", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001003", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001004", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001005", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001006", CommandStatus.ESME_RINVMSGLEN),
    ("60000001007", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001008", CommandStatus.ESME_RSYSERR),
    ("60000001009", CommandStatus.ESME_RINVDSTADR),
    ("60000001012", CommandStatus.ESME_RSUBMITFAIL),
    ("60000001013", CommandStatus.ESME_RSYSERR),
    ("60000000500", CommandStatus.ESME_RSYSERR),  # HTTP 500: unknown outcome
    ("60000000503", CommandStatus.ESME_RSYSERR),  # every mirror answered 503: not sent
    ("60000002003", CommandStatus.ESME_RSYSERR),  # an HTML page: unparseable, unknown
    ("60123456789", CommandStatus.ESME_ROK),
]


@pytest.mark.parametrize(("destination", "status"), MAPPING_ROWS)
async def test_each_isms_answer_maps_to_its_smpp_status(
    make_client: ClientFactory, destination: str, status: CommandStatus
) -> None:
    result = await make_client().send(message(destination))
    assert StatusMapping().status_for(result) is status


async def test_unknown_outcome_maps_to_rsubmitfail_when_configured(
    make_client: ClientFactory,
) -> None:
    result = await make_client().send(message("60000000500"))
    mapping = StatusMapping(unknown_outcome_status=CommandStatus.ESME_RSUBMITFAIL)
    assert mapping.status_for(result) is CommandStatus.ESME_RSUBMITFAIL


async def test_success_message_id_is_the_trx_id_the_sandbox_gave(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    result = await make_client().send(message())
    reply = StatusMapping().submit_status(result, new_message_id=lambda: "LOCAL")
    assert reply.message_id == sandbox.messages[-1].trx_id


# -- each body form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "code", "has_trx_id"),
    [
        ("60123456789", 2000, True),  # 2000 = SUCCESS:<id>
        ("60000002000", 2000, False),  # empty body
        ("60000002001", 2000, False),  # 2000 = SUCCESS
        ("60000002002", 2000, True),  # BOM + CRLF around it
        ("60000003001", -1001, False),  # bare code
        ("60000001004", -1004, False),  # code = TEXT
    ],
)
async def test_each_body_form_is_understood(
    make_client: ClientFactory, destination: str, code: int, has_trx_id: bool
) -> None:
    result = await make_client().send(message(destination))
    assert (result.code, result.trx_id is not None) == (code, has_trx_id)


async def test_rest_reply_as_json_string_is_understood(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    client = make_client(endpoints=(sandbox.url("RESTAPI.php"),), api=Api.REST)
    result = await client.send(message())
    assert result.outcome is Outcome.ACCEPTED and result.trx_id == sandbox.messages[-1].trx_id


async def test_legacy_script_success_has_no_trx_id(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    result = await make_client(endpoints=(sandbox.url("isms_send.php"),)).send(message())
    assert (result.outcome, result.trx_id) == (Outcome.ACCEPTED, None)


# -- failover and the breaker -----------------------------------------------------------------


async def test_failover_past_a_closed_port(
    make_client: ClientFactory, sandbox: IsmsSandbox, closed_port: int
) -> None:
    dead = f"http://127.0.0.1:{closed_port}/isms_send_all_id.php"
    result = await make_client(endpoints=(dead, sandbox.url())).send(message())
    assert (result.outcome, result.mirror, result.attempts) == (
        Outcome.ACCEPTED,
        sandbox.url(),
        2,
    )
    assert sandbox.send_requests == 1


async def test_failover_past_a_503(make_client: ClientFactory, sandbox: IsmsSandbox) -> None:
    async with IsmsSandbox(faults=SandboxFaults(http_status=503)) as proxy_down:
        client = make_client(endpoints=(proxy_down.url(), sandbox.url()))
        result = await client.send(message())
    assert (result.outcome, result.mirror) == (Outcome.ACCEPTED, sandbox.url())
    assert (proxy_down.send_requests, sandbox.send_requests) == (1, 1)
    assert proxy_down.balances["isms"] == sandbox.balances["isms"] + 1  # only one was charged


async def test_no_resend_after_a_read_timeout(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    async with IsmsSandbox() as second:
        client = make_client(endpoints=(sandbox.url(), second.url()), timeout_s=0.3)
        # A message first, so the late one goes on a kept-alive connection: its 0.3 s are
        # then all spent waiting for the reply. On a new connection a pause of the test's
        # process (a full garbage collection in a long suite) can pass the deadline before
        # the connection is had: nothing written, the next mirror tried, rightly.
        assert (await client.send(message())).outcome is Outcome.ACCEPTED
        # 60000009010: the sandbox sends the message, then answers after 1.0 s.
        result = await client.send(message("60000009010"))
    assert result.outcome is Outcome.UNKNOWN and result.attempts == 1
    assert (sandbox.send_requests, second.send_requests) == (2, 0)
    assert sandbox.messages[-1].charged == 1  # iSMS did send it: resending would duplicate


async def test_no_resend_after_the_connection_drops_mid_request(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    async with IsmsSandbox() as second:
        client = make_client(endpoints=(sandbox.url(), second.url()))
        result = await client.send(message("60000000000"))
    assert result.outcome is Outcome.UNKNOWN
    assert (sandbox.send_requests, second.send_requests) == (1, 0)


async def test_breaker_skips_a_dead_mirror_once_it_refused_breaker_failures_in_a_row(
    make_client: ClientFactory, sandbox: IsmsSandbox, closed_port: int
) -> None:
    dead = f"http://127.0.0.1:{closed_port}/isms_send_all_id.php"
    client = make_client(endpoints=(dead, sandbox.url()))
    opening = [await client.send(message()) for _ in range(DEFAULT_BREAKER_FAILURES)]
    later = [await client.send(message()) for _ in range(3)]
    assert [r.attempts for r in opening] == [2] * DEFAULT_BREAKER_FAILURES
    assert [r.attempts for r in later] == [1, 1, 1]
    assert sandbox.send_requests == DEFAULT_BREAKER_FAILURES + 3


@pytest.mark.parametrize("in_flight", [1, 20])
async def test_normal_messages_beside_one_http_500_in_25_and_html_pages_are_all_accepted(
    make_client: ClientFactory, sandbox: IsmsSandbox, in_flight: int
) -> None:
    # A breaker that one failure opened let one HTTP 500 on one mirror and an HTML page on
    # the other cut every message for the cool-down. A fault must cost only the message it
    # hit. Every 25th destination is a sandbox fault number, HTTP 500 and an HTML page
    # (HTTP 200) in turn; two mirrors; one message at a time (nothing in flight to close a
    # breaker by chance), then 20.
    faults = ("60000000500", "60000002003")
    destinations = [faults[i // 25 % 2] if i % 25 == 12 else "60123456789" for i in range(500)]
    async with IsmsSandbox() as second:
        client = make_client(endpoints=(sandbox.url(), second.url()))
        lanes = asyncio.Semaphore(in_flight)

        async def send(destination: str) -> tuple[str, SendResult]:
            async with lanes:
                return destination, await client.send(message(destination))

        results = await asyncio.gather(*(send(d) for d in destinations))
        requests = sandbox.send_requests + second.send_requests
    normal = [r for d, r in results if d not in faults]
    faulty = [r for d, r in results if d in faults]
    assert (len(normal), len(faulty)) == (480, 20)
    assert {r.outcome for r in normal} == {Outcome.ACCEPTED}
    assert {r.outcome for r in faulty} == {Outcome.UNKNOWN}
    assert {r.attempts for _, r in results} == {1} and requests == 500  # each sent once
    assert [m.state for m in client.mirrors] == [BreakerState.CLOSED] * 2


# -- request shapes ---------------------------------------------------------------------------


async def test_post_sends_a_form_and_keeps_pwd_out_of_the_url(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    await make_client().send(message())
    seen = sandbox.messages[-1]
    assert (seen.method, seen.content_type, seen.query_keys) == (
        "POST",
        "application/x-www-form-urlencoded",
        (),
    )


async def test_get_sends_every_parameter_in_the_query(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    await make_client(method=HttpMethod.GET).send(message())
    seen = sandbox.messages[-1]
    assert seen.method == "GET"
    assert set(seen.query_keys) == {"un", "pwd", "dstno", "msg", "type", "agreedterm", "sendid"}


async def test_rest_sends_json_with_basic_auth(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    await make_client(endpoints=(sandbox.url("RESTAPI.php"),), api=Api.REST).send(message())
    seen = sandbox.messages[-1]
    assert (seen.api, seen.method, seen.content_type, seen.basic_auth) == (
        "rest",
        "POST",
        "application/json",
        True,
    )


async def test_unicode_text_sender_and_destinations_arrive_exactly(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    text = "Salam! 你好 😀 & 100% = ok; +60"
    sent = message("60123456789", "6598765432", text=text, sms_type=SmsType.UNICODE)
    await make_client().send(sent)
    seen = sandbox.messages[-1]
    assert (seen.text, seen.sms_type, seen.sender_id) == (text, "2", "MyBrand")
    assert seen.destinations == ("60123456789", "6598765432")


# -- -1012 and the balance --------------------------------------------------------------------


async def test_non_ascii_text_refused_as_type_1_is_resent_once_as_type_2(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    # The sandbox refuses it like iSMS; unicode_retry is the pipeline's one resend rule.
    client = make_client()
    wrong_type = message(text="café", sms_type=SmsType.ASCII)
    retry = unicode_retry(wrong_type, await client.send(wrong_type))
    assert retry is not None and unicode_retry(retry, await client.send(retry)) is None
    assert [(m.sms_type, m.code) for m in sandbox.messages] == [("1", -1012), ("2", 2000)]


async def test_balance_reads_what_the_sandbox_holds(
    make_client: ClientFactory, sandbox: IsmsSandbox
) -> None:
    client = make_client()
    await client.send(message(text="x" * 154))  # two type-1 parts
    assert (await client.balance(ACCOUNT)).credits == Decimal(sandbox.balances["isms"])
    assert sandbox.balances["isms"] == 10_000 - 2


async def test_balance_of_wrong_credentials_is_the_isms_code(make_client: ClientFactory) -> None:
    reply = await make_client().balance(IsmsCredentials(username="isms", password="nope"))
    assert (reply.credits, reply.code) == (None, -1001)


async def test_balance_poller_reports_each_account_through_its_callback(
    make_client: ClientFactory,
) -> None:
    seen: list[BalanceReading] = []
    other = IsmsCredentials(username="other", password="pw2")
    accounts = [ACCOUNT, other, ACCOUNT]  # two ESME accounts sharing "isms"
    poller = BalancePoller(make_client(), accounts, interval_s=0.05, on_reading=seen.append)
    poller.start()
    try:
        for _ in range(500):  # two polls of two accounts, well within 5 s
            if len(seen) >= 4:
                break
            await asyncio.sleep(0.01)
    finally:
        await poller.stop()
    assert len(seen) >= 4
    assert {r.username for r in seen} == {"isms", "other"}
    assert poller.last["other"].credits == Decimal(10_000) and not poller.running
