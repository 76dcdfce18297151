"""Durability: `isms-bridge serve` as a real process on its default SQLite store, killed with
SIGKILL right after the ESME (smpplib) has its answer, then started again on the same file.

Every obligation an answer creates survives: held receipts, receipts sent but not
confirmed, query_sm records, parts of a long message answered ESME_ROK, a message kept for
the ESME's retry. A full store answers ESME_RSYSERR and sends nothing until it has room;
an unusable state file makes `serve` and `check-config` exit 2 with one line. An ESME that
leaves while its iSMS request is in flight does not cut it short: it is sent once and
recorded.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import smpplib.client
from real_parts import free_port, missing, program
from redis_server import RedisServer
from serve_process import ServeProcess
from smpplib_esme import read_receipts, submit, submit_many

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    Pdu,
    QuerySm,
    QuerySmResp,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    SubmitSmResp,
)
from bridge.upstream.sandbox import SandboxFaults

from .loopback import ACCOUNT, SMPP, RawEsme, Toml, config_text
from .messages_rig import SandboxThread

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TO = "60123456789"


Write = Callable[..., Path]


@pytest.fixture
def config(tmp_path: Path, sandbox: SandboxThread) -> Write:
    """bridge.toml against the sandbox, [state] at its defaults (sqlite, beside the file)."""

    def write(
        *,
        state: Toml | None = None,
        messages: Toml | None = None,
        isms: Toml | None = None,
        account: Toml | None = None,
        metrics_port: int = 0,
        name: str = "bridge.toml",
    ) -> Path:
        tables: list[tuple[str, Toml]] = [
            ("[smpp]", SMPP),
            ("[isms]", {"endpoints": [sandbox.url], "timeout_s": 5, **(isms or {})}),
            ("[metrics]", {"port": metrics_port}),
            ("[messages]", messages or {}),
            ("[state]", state or {}),
            ("[[accounts]]", {**ACCOUNT, **(account or {})}),
        ]
        path = tmp_path / name
        path.write_text(config_text(tables), encoding="utf-8")
        return path

    return write


def esme(port: int, bind: str) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    getattr(client, f"bind_{bind}")(system_id="esme1", password="secret1")
    return client


def receipt_ids(receipts: list[Any]) -> list[str]:
    return sorted(r.receipted_message_id.decode() for r in receipts)


# --- what an answer obliges survives SIGKILL -------------------------------------------------


def test_receipts_held_for_an_absent_receiver_are_delivered_after_a_sigkill(
    config: Write, serve: Callable[[Path], ServeProcess]
) -> None:
    path = config()
    bridge = serve(path)
    sender = esme(bridge.port, "transmitter")
    answers = submit_many(
        sender,
        [
            {"destination_addr": TO, "short_message": b"held %d" % i, "registered_delivery": 1}
            for i in range(10)
        ],
    )
    bridge.kill()
    again = serve(path)
    again.wait_for(r"event=state_recovered backend=sqlite receipts=10 ")
    receiver = esme(again.port, "receiver")
    receipts = read_receipts(receiver, 10)
    assert receipt_ids(receipts) == sorted(a.message_id for a in answers if a.message_id)
    assert all(b"stat:ACCEPTD" in r.short_message for r in receipts)


def test_a_receipt_sent_but_not_confirmed_before_a_sigkill_is_sent_again(
    config: Write, serve: Callable[[Path], ServeProcess]
) -> None:
    path = config()
    bridge = serve(path)
    silent = RawEsme("127.0.0.1", bridge.port)
    silent.send(BindReceiver(system_id="esme1", password="secret1"))
    assert silent.read().command_status == 0
    sender = esme(bridge.port, "transmitter")
    answer = submit(
        sender, destination_addr=TO, short_message=b"unconfirmed", registered_delivery=1
    )
    delivered = silent.read()  # the deliver_sm went out; this receiver never answers it
    assert isinstance(delivered, DeliverSm)
    bridge.kill()
    silent.close()
    assert receipt_shown(path, answer.message_id) == "sent"
    again = serve(path)
    receiver = esme(again.port, "receiver")
    [receipt] = read_receipts(receiver, 1)
    assert receipt.receipted_message_id.decode() == answer.message_id
    deadline = time.monotonic() + 10
    while receipt_shown(path, answer.message_id) != "confirmed":
        assert time.monotonic() < deadline, "the confirmed receipt was never recorded"
        time.sleep(0.05)


def receipt_shown(path: Path, message_id: object) -> str:
    """The receipt column `isms-bridge messages --json` shows for one message."""
    done = run_bridge("messages", "--config", str(path), "--id", str(message_id), "--json")
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)
    return str(record["receipt"])


def test_query_sm_after_a_sigkill_finds_the_message_answered_before_it(
    config: Write, serve: Callable[[Path], ServeProcess]
) -> None:
    path = config()
    bridge = serve(path)
    client = esme(bridge.port, "transceiver")
    answer = submit(client, destination_addr=TO, short_message=b"query me")
    bridge.kill()
    again = serve(path)
    client = esme(again.port, "transceiver")
    client.query_message(message_id=answer.message_id, source_addr="MyBrand")
    response = client.read_pdu()
    assert response.command == "query_sm_resp" and response.status == 0
    assert response.message_state == 6  # ACCEPTED


def test_parts_1_and_2_answered_before_a_sigkill_complete_with_part_3_after_it(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    path = config()
    bridge = serve(path)
    client = esme(bridge.port, "transmitter")
    header = bytes([5, 0, 3, 77, 3])
    parts = [(1, b"one "), (2, b"two "), (3, b"three")]

    def part(seqnum: int, text: bytes) -> dict[str, Any]:
        return {
            "destination_addr": TO,
            "esm_class": 0x40,
            "short_message": header + bytes([seqnum]) + text,
        }

    first = submit_many(client, [part(*p) for p in parts[:2]])
    assert [a.status for a in first] == [0, 0]
    bridge.kill()
    again = serve(path)
    again.wait_for(r"event=state_recovered .*long_messages=1 ")
    client = esme(again.port, "transmitter")
    last = submit(client, **part(*parts[2]))
    assert last.status == 0
    [sent] = sandbox.wait_for(1)
    assert sent["text"] == "one two three"
    time.sleep(0.3)
    assert len(sandbox.messages()) == 1


def test_a_message_kept_for_a_retry_before_a_sigkill_is_sent_whole_on_the_retry_after_it(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/isms_send_all_id.php"
    bridge = serve(config(isms={"endpoints": [unreachable], "connect_timeout_s": 0.5}))
    client = esme(bridge.port, "transmitter")
    header = bytes([5, 0, 3, 78, 2])
    first = {"destination_addr": TO, "esm_class": 0x40, "short_message": header + b"\x01Hello "}
    second = {"destination_addr": TO, "esm_class": 0x40, "short_message": header + b"\x02again"}
    answers = submit_many(client, [first, second])
    assert [a.status for a in answers] == [0, CommandStatus.ESME_RSYSERR]  # iSMS not reached
    bridge.kill()
    again = serve(config())  # the same file, iSMS reachable now
    again.wait_for(r"event=state_recovered .*retries=1 ")
    client = esme(again.port, "transmitter")
    assert submit(client, **second).status == 0
    [sent] = sandbox.wait_for(1)
    assert sent["text"] == "Hello again"


# --- a SIGKILL while a long message's completing part is at iSMS ----------------------------

SLOW_TO = "60000009030"  # the sandbox answers in 3 s: the kill lands while iSMS has it
LONG_HEADER = bytes([5, 0, 3, 91, 2])


def long_part(seqnum: int, text: bytes, to: str = SLOW_TO) -> SubmitSm:
    return SubmitSm(
        destination_addr=to,
        esm_class=0x40,
        registered_delivery=1,
        short_message=LONG_HEADER + bytes([seqnum]) + text,
    )


def raw_transceiver(port: int) -> RawEsme:
    client = RawEsme("127.0.0.1", port)
    client.send(BindTransceiver(system_id="esme1", password="secret1"))
    assert client.read().command_status == 0
    return client


def receipts_for(client: RawEsme, count: int) -> dict[str, str]:
    """message_id -> receipt text, answering each deliver_sm (other PDUs skipped)."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + 10
    while len(found) < count:
        pdu = client.read(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(pdu, DeliverSm):
            client.send(DeliverSmResp(sequence_number=pdu.sequence_number))
            text = pdu.short_message.decode()
            found[text.split()[0].removeprefix("id:")] = text
    return found


def killed_while_part_2_is_at_isms(
    path: Path, serve: Callable[[Path], ServeProcess]
) -> tuple[ServeProcess, str]:
    """Part 1 answered; part 2 completes the message and is at iSMS (3 s) when the bridge
    is killed. Returns the bridge started again on the same file, and part 1's id."""
    bridge = serve(path)
    client = raw_transceiver(bridge.port)
    client.send(long_part(1, b"Hello "))
    first = client.read()
    assert first.command_status == 0
    client.send(long_part(2, b"world"))
    time.sleep(1.0)
    bridge.kill()
    again = serve(path)
    again.wait_for(r"event=state_recovered .* intents=1")
    again.wait_for(r"event=intent_unsettled system_id=esme1 .*pdu=submit_sm")
    return again, str(first.message_id)


def test_a_long_message_at_isms_during_a_sigkill_is_sent_by_the_resend_and_never_expires(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    # unknown_outcome_status ESME_RSYSERR (the default): after the kill the message is an
    # unknown outcome, kept for the resend of its last part as at runtime; the resend is
    # sent (the ESME's doing), and every id gets its receipt, none EXPIRED.
    path = config()
    bridge, first_id = killed_while_part_2_is_at_isms(path, serve)
    client = raw_transceiver(bridge.port)
    client.send(long_part(2, b"world"))
    answer = client.read(timeout=10)
    assert isinstance(answer, SubmitSmResp) and answer.command_status == 0
    receipts = receipts_for(client, 2)
    assert set(receipts) == {first_id, answer.message_id}
    assert all("stat:ACCEPTD" in text for text in receipts.values())
    assert [m["text"] for m in sandbox.messages()] == ["Hello world"] * 2


def test_a_long_message_at_isms_during_a_sigkill_is_settled_unknown_when_not_retried(
    config: Write, serve: Callable[[Path], ServeProcess]
) -> None:
    path = config(isms={"unknown_outcome_status": "ESME_RSUBMITFAIL"})
    bridge, first_id = killed_while_part_2_is_at_isms(path, serve)
    client = raw_transceiver(bridge.port)
    [receipt] = receipts_for(client, 1).values()
    assert "stat:UNKNOWN err:255" in receipt and receipt.startswith(f"id:{first_id} ")
    client.send(QuerySm(message_id=first_id, source_addr="MyBrand"))
    answer = client.read()
    assert isinstance(answer, QuerySmResp) and answer.message_state == 7  # never ENROUTE
    assert recorded(path, first_id)["status"] == "UNSETTLED"


def test_a_long_message_waiting_for_its_slot_during_a_sigkill_is_sent_once_by_the_resend(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    path = config(isms={"max_in_flight_per_account": 1})
    bridge = serve(path)
    client = raw_transceiver(bridge.port)
    client.send(SubmitSm(destination_addr=SLOW_TO, short_message=b"holds the slot"))
    time.sleep(0.3)
    client.send(long_part(1, b"Hello ", to=TO))
    client.send(long_part(2, b"world", to=TO))  # completes it; waits for the slot
    first = client.read()
    assert first.command_status == 0
    time.sleep(0.5)
    bridge.kill()
    again = serve(path)
    # Kept for its resend, known not sent; the intent is the message holding the slot's.
    again.wait_for(r"event=state_recovered .*retries=1 .*intents=1")
    client = raw_transceiver(again.port)
    client.send(long_part(2, b"world", to=TO))
    answer = client.read(timeout=10)
    assert isinstance(answer, SubmitSmResp) and answer.command_status == 0
    receipts = receipts_for(client, 2)
    assert set(receipts) == {str(first.message_id), answer.message_id}
    assert all("stat:ACCEPTD" in text for text in receipts.values())
    assert [m["text"] for m in sandbox.messages()].count("Hello world") == 1


def restarted_after_a_kill_while_at_isms(
    path: Path, serve: Callable[[Path], ServeProcess]
) -> ServeProcess:
    """A bridge SIGKILLed while its iSMS request for submit_sm 41 ("at iSMS" to SLOW_TO) is
    at iSMS, then started again on the same state file."""
    bridge = serve(path)
    client = raw_transceiver(bridge.port)
    client.send(SubmitSm(destination_addr=SLOW_TO, short_message=b"at iSMS", sequence_number=41))
    time.sleep(1.0)
    bridge.kill()
    return serve(path)


def test_a_message_of_one_part_at_isms_during_a_sigkill_is_recorded_unsettled(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    path = config()
    again = restarted_after_a_kill_while_at_isms(path, serve)
    again.wait_for(r"event=state_recovered .* intents=1")
    again.wait_for(
        rf"event=intent_unsettled system_id=esme1 reference=esme1/\S+/41 pdu=submit_sm "
        rf"source=\S* destinations={SLOW_TO} parts=1"
    )
    done = run_bridge("messages", "--config", str(path), "--to", SLOW_TO, "--json")
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)
    assert record["status"] == "UNSETTLED" and record["message_ids"] == []


def test_with_duplicates_on_a_resend_after_a_sigkill_mid_request_is_answered_at_once(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    # The first's claim was left pending by the killed run: on a store it alone used, the
    # new run takes it as an unknown outcome at once (after_unknown: send_again), instead of
    # waiting the 180 s a pending claim of a live instance is given.
    path = config(account={"duplicates": "suppress"})
    again = restarted_after_a_kill_while_at_isms(path, serve)
    client = raw_transceiver(again.port)
    client.send(SubmitSm(destination_addr=SLOW_TO, short_message=b"at iSMS", sequence_number=42))
    answer = client.read(timeout=20)
    assert isinstance(answer, SubmitSmResp) and answer.command_status == 0
    done = run_bridge("messages", "--config", str(path), "--to", SLOW_TO, "--json")
    assert done.returncode == 0, done.stderr
    resent = [r for r in json.loads(done.stdout) if r["message_ids"] == [answer.message_id]]
    assert [r["duplicate"] for r in resent] == ["sent_again"]


# --- a full store ---------------------------------------------------------------------------


def ready(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_full_store_answers_rsyserr_sends_nothing_and_recovers_once_records_expire(
    config: Write, serve: Callable[[Path], ServeProcess], sandbox: SandboxThread
) -> None:
    metrics = free_port()
    text = b"x" * 250  # with record_text, each record holds its text: the file fills fast
    path = config(
        state={"max_file_mb": 1, "record_text": True},
        messages={"query_store_age_s": 10},
        metrics_port=metrics,
    )
    bridge = serve(path)
    client = esme(bridge.port, "transmitter")
    statuses: list[int] = []
    while CommandStatus.ESME_RSYSERR not in statuses:
        assert len(statuses) < 5000, "the store never filled"
        statuses += [
            a.status
            for a in submit_many(client, [{"destination_addr": TO, "short_message": text}] * 50)
        ]
    sent = len(sandbox.messages())
    header = bytes([5, 0, 3, 79, 2])
    later = submit_many(
        client,
        [
            {"destination_addr": TO, "short_message": b"not sent"},
            {"destination_addr": TO, "esm_class": 0x40, "short_message": header + b"\x01part"},
        ],
    )
    assert [a.status for a in later] == [CommandStatus.ESME_RSYSERR] * 2  # nothing acked
    assert len(sandbox.messages()) == sent  # nothing sent
    assert ready(metrics) == 503
    bridge.wait_for(r"event=state_unavailable backend=sqlite")
    deadline = time.monotonic() + 30
    while (answer := submit(client, destination_addr=TO, short_message=b"room again")).status:
        assert time.monotonic() < deadline, "the store never had room again"
        time.sleep(0.5)
    assert answer.message_id and ready(metrics) == 200


# --- unusable state files -------------------------------------------------------------------


def run_bridge(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bridge", *args],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip


def assert_refused(path: Path, reason: str, *, prefix: tuple[str, ...] = ()) -> None:
    for command in (["serve", "--config", str(path)], ["check-config", str(path)]):
        done = run_bridge(*command, prefix=prefix)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert "state.sqlite3" in lines[0] and reason in lines[0], lines[0]


def test_a_corrupt_state_file_makes_serve_and_check_config_exit_2(config: Write) -> None:
    path = config()
    (path.parent / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    assert_refused(path, "")


def test_a_state_file_held_by_a_running_bridge_makes_another_exit_2(
    config: Write, serve: Callable[[Path], ServeProcess]
) -> None:
    path = config()
    serve(path)
    assert_refused(path, "")


def held_to_file_permissions() -> tuple[str, ...]:
    """What runs the bridge bound by file permissions: nothing for a plain user; for root
    (CI), setpriv without the capabilities that let root ignore them."""
    if os.geteuid() != 0:
        return ()
    setpriv = program("setpriv", "util-linux")
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        missing("setpriv cannot drop root's file-permission capabilities here")
    return prefix


def test_a_state_folder_the_bridge_may_not_write_in_makes_serve_and_check_config_exit_2(
    config: Write, tmp_path: Path
) -> None:
    prefix = held_to_file_permissions()
    locked = tmp_path / "data"
    locked.mkdir(mode=0o500)
    try:
        path = config(state={"path": "data/state.sqlite3"})
        assert_refused(path, f"no permission to write in {locked}", prefix=prefix)
    finally:
        locked.chmod(0o700)


def test_a_state_file_the_bridge_may_not_read_and_write_makes_serve_and_check_config_exit_2(
    config: Write, serve: Callable[[Path], ServeProcess], tmp_path: Path
) -> None:
    prefix = held_to_file_permissions()
    path = config()
    serve(path).stop()
    state = tmp_path / "state.sqlite3"
    state.chmod(0o400)
    try:
        assert_refused(path, "no permission to read and write it", prefix=prefix)
    finally:
        state.chmod(0o600)


def test_a_file_where_the_state_folder_should_be_makes_serve_and_check_config_exit_2(
    config: Write, tmp_path: Path
) -> None:
    (tmp_path / "data").write_text("a file, not a folder", encoding="utf-8")
    path = config(state={"path": "data/state.sqlite3"})
    assert_refused(path, "not a folder")


def test_the_state_file_is_a_real_sqlite_database_the_operator_can_back_up(
    config: Write, serve: Callable[[Path], ServeProcess], tmp_path: Path
) -> None:
    path = config()
    bridge = serve(path)
    client = esme(bridge.port, "transmitter")
    answer = submit(client, destination_addr=TO, short_message=b"backed up")
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(tmp_path / "state.sqlite3") as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    done = run_bridge("messages", "--config", str(path), "--id", str(answer.message_id), "--json")
    assert done.returncode == 0, done.stderr
    assert str(answer.message_id) in done.stdout and "backed up" not in done.stdout
    assert backup.stat().st_size > 0


@pytest.fixture
def slow_sandbox() -> Iterator[SandboxThread]:
    """A sandbox that answers each request a second after it has it."""
    slow = SandboxThread(SandboxFaults(latency_s=1.0))
    yield slow
    slow.stop()


def slow_config(tmp_path: Path, slow: SandboxThread, isms: Toml | None = None) -> Path:
    path = tmp_path / "bridge.toml"
    tables: list[tuple[str, Toml]] = [
        ("[smpp]", SMPP),
        ("[isms]", {"endpoints": [slow.url], "timeout_s": 5, **(isms or {})}),
        ("[metrics]", {"port": 0}),
        ("[[accounts]]", ACCOUNT),
    ]
    path.write_text(config_text(tables), encoding="utf-8")
    return path


def leave_while_at_isms(bridge: ServeProcess, slow: SandboxThread, request: Pdu) -> str:
    """Send `request` from a raw ESME that closes its socket once the sandbox has it (which
    answers a second later); the message_id the bridge logs as answered to no one."""
    raw = RawEsme("127.0.0.1", bridge.port)
    raw.send(BindTransmitter(system_id="esme1", password="secret1"))
    assert raw.read().command_status == CommandStatus.ESME_ROK
    [seq] = raw.send(request)
    slow.wait_for(1)
    raw.sock.close()
    lost = bridge.wait_for(r"event=answer_lost .*seq=(\d+).*message_id=(\S+)", timeout=15)
    assert int(lost.group(1)) == seq
    return lost.group(2)


def recorded(path: Path, message_id: str) -> dict[str, Any]:
    done = run_bridge("messages", "--config", str(path), "--id", message_id, "--json")
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)
    return dict(record)


def test_an_esme_that_leaves_while_its_isms_request_is_in_flight_still_has_it_recorded(
    tmp_path: Path, serve: Callable[[Path], ServeProcess], slow_sandbox: SandboxThread
) -> None:
    # iSMS may already have the message: the request runs to its end, is sent once, and its
    # record says what became of it although nobody was left to hear the answer.
    path = slow_config(tmp_path, slow_sandbox)
    bridge = serve(path)
    submit_sm = SubmitSm(source_addr="MyBrand", destination_addr=TO, short_message=b"x")
    message_id = leave_while_at_isms(bridge, slow_sandbox, submit_sm)
    record = recorded(path, message_id)
    assert record["status"] == "ESME_ROK" and record["trx_id"] == message_id
    time.sleep(0.3)
    assert [m["text"] for m in slow_sandbox.messages()] == ["x"]


def test_an_esme_that_leaves_while_a_submit_multi_is_at_isms_has_all_of_it_sent_and_recorded(
    tmp_path: Path, serve: Callable[[Path], ServeProcess], slow_sandbox: SandboxThread
) -> None:
    # One destination per request, one request at a time: the second batch still waits for
    # its slot when the ESME leaves, and is sent all the same (the message is completed).
    isms = {"max_destinations_per_request": 1, "max_in_flight_per_account": 1}
    path = slow_config(tmp_path, slow_sandbox, isms)
    bridge = serve(path)
    destinations = tuple(SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=number)
                         for number in (TO, "60123456780"))  # fmt: skip
    multi = SubmitMulti(source_addr="MyBrand", dest_addresses=destinations, short_message=b"y")
    message_id = leave_while_at_isms(bridge, slow_sandbox, multi)
    record = recorded(path, message_id)
    assert record["status"] == "ESME_ROK" and record["pdu"] == "submit_multi"
    sent = [tuple(m["destinations"]) for m in slow_sandbox.messages()]
    assert sorted(sent) == sorted([("60123456780",), (TO,)])


# --- the redis backend: several bridges share one store -------------------------------------


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer.started() as server:
        yield server


def test_on_redis_a_receipt_held_before_a_sigkill_is_delivered_after_it(
    config: Write, serve: Callable[[Path], ServeProcess], redis: RedisServer
) -> None:
    path = config(state={"backend": "redis", "redis_url": redis.url})
    bridge = serve(path)
    sender = esme(bridge.port, "transmitter")
    answer = submit(sender, destination_addr=TO, short_message=b"on redis", registered_delivery=1)
    bridge.kill()
    again = serve(path)
    again.wait_for(r"event=state_recovered backend=redis receipts=1 ")
    [receipt] = read_receipts(esme(again.port, "receiver"), 1)
    assert receipt.receipted_message_id.decode() == answer.message_id


def test_a_receipt_made_by_one_bridge_is_delivered_by_another_that_holds_the_receiver(
    config: Write, serve: Callable[[Path], ServeProcess], redis: RedisServer
) -> None:
    state = {"backend": "redis", "redis_url": redis.url}
    first = serve(config(state=state, name="first.toml"))
    second = serve(config(state=state, name="second.toml"))
    receiver = esme(second.port, "receiver")
    sender = esme(first.port, "transmitter")
    answer = submit(sender, destination_addr=TO, short_message=b"shared", registered_delivery=1)
    [receipt] = read_receipts(receiver, 1)
    assert receipt.receipted_message_id.decode() == answer.message_id
