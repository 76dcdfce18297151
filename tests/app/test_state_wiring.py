"""bridge.app chooses and opens the [state] backend; check-config and `messages` read it."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest

from bridge.app import Bridge
from bridge.app.commands.check_config import check
from bridge.app.commands.messages import Query, comparable_number, show, since_seconds
from bridge.app.metrics import Metrics
from bridge.app.state import check_state, open_state
from bridge.config import StateConfig, load_config
from bridge.pdu import CommandStatus, SubmitSm
from bridge.pipeline import MessageRecord, MessageStore
from bridge.pipeline.outcome.refusals import RefusalRecords, refused_submit
from bridge.state import MemoryState, SqliteState, StateFileError, StateUnavailable

CONFIG = """
[isms]
endpoints = ["http://127.0.0.1:8480/isms_send_all_id.php"]

[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
"""


def write_config(tmp_path: Path, state: str = "") -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG + ("\n[state]\n" + state if state else ""), encoding="utf-8")
    return path


def record(message_id: str, *, to: str = "60123456789", received_at: float = 0.0) -> MessageRecord:
    return MessageRecord(
        account="esme1",
        message_ids=(message_id,),
        pdu="submit_sm",
        source_addr="MyBrand",
        destinations=(to,),
        parts=1,
        status="ESME_ROK",
        message_state=6,
        error_code=0,
        received_at=received_at,
        answered_at=received_at + 0.2,
        final_at=received_at + 0.2,
        trx_id=message_id,
        isms_code=2000,
        mirror="www.isms.com.my",
        sent_at=received_at + 0.01,
    )


async def fill(path: Path, *records: MessageRecord, now: float) -> None:
    store = await SqliteState.open(path)
    try:
        messages = MessageStore(store)
        for item in records:
            await messages.record(item, now=now)
    finally:
        await store.aclose()


async def test_the_default_backend_is_a_sqlite_file_beside_the_config(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    store = await open_state(config.state)
    try:
        assert store.backend == "sqlite" and (tmp_path / "state.sqlite3").exists()
    finally:
        await store.aclose()


async def test_the_memory_backend_keeps_no_file(tmp_path: Path) -> None:
    store = await open_state(StateConfig(backend="memory", path=tmp_path / "state.sqlite3"))
    assert isinstance(store, MemoryState) and not (tmp_path / "state.sqlite3").exists()


async def test_a_missing_folder_is_created_at_the_first_start(tmp_path: Path) -> None:
    store = await open_state(StateConfig(path=tmp_path / "data" / "state.sqlite3"))
    await store.aclose()
    assert (tmp_path / "data" / "state.sqlite3").is_file()


async def test_max_wal_mb_bounds_the_wal_and_its_gauge_shows_it_growing(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(
        '[smpp]\nhost = "127.0.0.1"\nport = 0\n[metrics]\nhost = "127.0.0.1"\nport = 0\n'
        + CONFIG
        + "\n[state]\nmax_wal_mb = 8\n",
        encoding="utf-8",
    )
    config = load_config(path)
    store = await open_state(config.state)
    metrics = Metrics(config)
    Bridge(config, store, metrics=metrics)

    def gauge() -> float | None:
        return metrics.series.registry.get_sample_value("isms_bridge_state_wal_bytes")

    reader = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    try:
        reader.execute("BEGIN")  # a snapshot held, as by a sqlite3 shell left open
        reader.execute("SELECT count(*) FROM records").fetchone()
        before = gauge()
        with pytest.raises(StateUnavailable, match="max_wal_mb"):
            for i in range(100_000):
                await store.put_record(
                    "msg", f"k{i}", b"x" * 500, now=0, expires_at=9, max_records=10**6
                )
        assert before is not None and before < 8 * 2**20 < (gauge() or 0) < 10 * 2**20
    finally:
        reader.close()
        await store.aclose()


async def test_a_file_where_a_folder_should_be_is_named_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file", encoding="utf-8")
    config = StateConfig(path=tmp_path / "data" / "deeper" / "state.sqlite3")
    with pytest.raises(StateFileError, match="is a file, not a folder") as caught:
        await open_state(config)
    assert caught.value.path == str(config.path)


async def test_a_folder_where_the_file_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").mkdir()
    with pytest.raises(StateFileError, match="is a folder"):
        await open_state(StateConfig(path=tmp_path / "state.sqlite3"))


async def test_check_state_creates_nothing_for_a_file_not_there_yet(tmp_path: Path) -> None:
    line = await check_state(StateConfig(path=tmp_path / "state.sqlite3"))
    assert "created at the first start" in line and not (tmp_path / "state.sqlite3").exists()


def test_check_config_names_the_state_store_in_its_summary(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert check(write_config(tmp_path), out=out, err=err) == 0
    assert f"state: sqlite {tmp_path / 'state.sqlite3'}" in out.getvalue()


def test_check_config_exits_2_with_one_line_for_an_unusable_state_path(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    path = write_config(tmp_path, 'path = "data/state.sqlite3"')
    assert check(path, out=out, err=err) == 2
    [line] = err.getvalue().splitlines()
    assert "data/state.sqlite3" in line and "not a folder" in line


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400)]
)
def test_since_takes_seconds_minutes_hours_and_days(text: str, seconds: float) -> None:
    assert since_seconds(text) == seconds


def messages(path: Path, query: Query, *, as_json: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = show(path, query, as_json=as_json, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_messages_lists_the_records_newest_first_as_a_table(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    now = time.time()
    asyncio.run(fill(tmp_path / "state.sqlite3", record("111"), now=now))
    asyncio.run(fill(tmp_path / "state.sqlite3", record("222", to="60199999999"), now=now + 1))
    status, out, _ = messages(path, Query())
    assert status == 0
    header, first, second = out.splitlines()
    assert header.split()[:3] == ["received", "account", "message_id"]
    assert " 222 " in first and " 111 " in second and "confirmed" not in out


def test_messages_filters_by_id_destination_and_account_and_prints_json(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    asyncio.run(
        fill(
            tmp_path / "state.sqlite3",
            record("111"),
            record("222", to="60199999999"),
            now=time.time(),
        )
    )
    _, out, _ = messages(path, Query(to="60199999999"), as_json=True)
    [item] = json.loads(out)
    assert (item["message_ids"], item["trx_id"], item["isms_code"]) == (["222"], "222", 2000)
    assert "text" not in item
    assert json.loads(messages(path, Query(message_id="111"), as_json=True)[1])[0][
        "message_ids"
    ] == ["111"]
    assert json.loads(messages(path, Query(account="other"), as_json=True)[1]) == []


def test_messages_on_the_memory_backend_says_there_is_nothing_to_read(tmp_path: Path) -> None:
    status, _, err = messages(write_config(tmp_path, 'backend = "memory"'), Query())
    assert status == 2 and "memory backend keeps no file" in err


def test_messages_before_the_first_start_says_the_file_does_not_exist(tmp_path: Path) -> None:
    status, _, err = messages(write_config(tmp_path), Query())
    assert status == 2 and "does not exist" in err


@pytest.mark.parametrize("asked", ["+60123456789", "60123456789", "0123456789", "012-345 6789"])
@pytest.mark.parametrize("sent", ["60123456789", "+60123456789", "0123456789"])
def test_messages_finds_a_destination_in_any_form_the_pipeline_takes(
    tmp_path: Path, asked: str, sent: str
) -> None:
    path = write_config(tmp_path)
    asyncio.run(
        fill(
            tmp_path / "state.sqlite3",
            record("111", to=sent),
            record("222", to="60199999999"),
            now=time.time(),
        )
    )
    _, out, _ = messages(path, Query(to=asked), as_json=True)
    assert [item["message_ids"] for item in json.loads(out)] == [["111"]]


def test_a_national_number_takes_the_configured_country_code(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[isms]", '[isms]\ndefault_country_code = "65"'))
    asyncio.run(fill(tmp_path / "state.sqlite3", record("111", to="6591234567"), now=time.time()))
    _, out, _ = messages(path, Query(to="091234567"), as_json=True)
    assert [item["message_ids"] for item in json.loads(out)] == [["111"]]


@pytest.mark.parametrize(
    "address",
    ["60123456789", "+60123456789", "0060123456789", "0123456789", " 012-345.67(89) "],
)
def test_the_number_messages_compares_is_the_one_the_pipeline_sends(address: str) -> None:
    # The pipeline's own rule for TON 0, the TON a record does not keep: the two must agree.
    from bridge.pipeline.checks.numbers import NumberRules, isms_number

    assert comparable_number(address, "60") == isms_number(address, 0, 1, NumberRules())


async def refuse(path: Path, *, now: float) -> None:
    store = await SqliteState.open(path)
    try:
        refused = refused_submit(
            "esme1",
            "esme1/s7/12",
            SubmitSm(source_addr="MyBrand", destination_addr="100", short_message=b"secret"),
            status=CommandStatus.ESME_RINVDSTADR,
            reason="destination '100': 3 digits; a full number has 7 to 15",
            kind="destination",
            received_at=now,
        )
        await RefusalRecords(store, max_records=10, max_age=60).record(refused, now=now)
    finally:
        await store.aclose()


def test_messages_shows_a_refused_submit_with_its_status_and_reason_and_no_text(
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path)
    now = time.time()
    asyncio.run(fill(tmp_path / "state.sqlite3", record("111"), now=now))
    asyncio.run(refuse(tmp_path / "state.sqlite3", now=now + 1))
    _, out, _ = messages(path, Query(), as_json=True)
    refused, sent = json.loads(out)
    assert sent["message_ids"] == ["111"] and sent["refused_because"] is None
    assert (refused["status"], refused["message_ids"], refused["destinations"]) == (
        "ESME_RINVDSTADR",
        [],
        ["100"],
    )
    assert refused["refused_because"].startswith("destination '100'")
    assert refused["reference"] == "esme1/s7/12" and "secret" not in out
    _, table_text, _ = messages(path, Query(to="100"))
    assert "ESME_RINVDSTADR" in table_text and "a full number has 7 to 15" in table_text
