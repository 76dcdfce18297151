"""`isms-bridge send` and `isms-bridge demo` end to end over loopback."""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge.cli import main

from .messages_rig import MessagesRig, running

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def rig(tmp_path: Path, run_server: Callable[..., object]) -> Iterator[MessagesRig]:
    with running(tmp_path, run_server) as running_rig:
        yield running_rig


def send(rig: MessagesRig, *args: str) -> int:
    login = ["--host", "127.0.0.1", "--port", str(rig.server.port)]
    return main(["send", *login, "--system-id", "esme1", "--password", "secret1", *args])


def test_send_prints_the_message_id_isms_gave(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "60123456789", "--from", "MyBrand", "Hello there") == 0
    [record] = rig.sandbox.wait_for(1)
    assert capsys.readouterr().out == f"accepted, message_id {record['trx_id']}\n"
    assert (record["text"], record["sender_id"]) == ("Hello there", "MyBrand")


def test_send_splits_long_text_and_prints_each_parts_message_id(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "A long message. " * 15
    assert send(rig, "--to", "60123456789", text) == 0
    [record] = rig.sandbox.wait_for(1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("part 1/2: accepted, message_id ")
    assert lines[1] == f"part 2/2: accepted, message_id {record['trx_id']}"
    assert record["text"] == text


def test_send_waits_for_the_receipt_and_prints_it(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "60123456789", "--wait-receipt", "Price £5") == 0
    out = capsys.readouterr().out
    assert re.search(r"receipt: id:\d+ sub:001 .* stat:ACCEPTD err:000 text:Price £5$", out)


def test_send_to_a_national_number_reaches_isms_with_the_country_code(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "0123456789", "Hi") == 0
    [record] = rig.sandbox.wait_for(1)
    assert record["destinations"] == ["60123456789"]


def test_send_prints_a_refusal_by_status_name_and_in_words_and_exits_1(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "12", "hi") == 1
    out = capsys.readouterr().out
    assert out == "refused: ESME_RINVDSTADR (0x0000000B): invalid destination address\n"


def test_send_to_two_destinations_sends_to_both_and_prints_each_ones_message_id(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "60123456789", "--to", "60198765432", "Hello both") == 0
    records = rig.sandbox.wait_for(2)
    assert sorted(d for r in records for d in r["destinations"]) == ["60123456789", "60198765432"]
    trx_of = {r["destinations"][0]: r["trx_id"] for r in records}
    assert capsys.readouterr().out.splitlines() == [
        f"60123456789: accepted, message_id {trx_of['60123456789']}",
        f"60198765432: accepted, message_id {trx_of['60198765432']}",
    ]


def test_send_with_one_refused_destination_still_sends_the_other_and_exits_1(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "12", "--to", "60123456789", "hi") == 1
    [record] = rig.sandbox.wait_for(1)
    assert record["destinations"] == ["60123456789"]
    assert capsys.readouterr().out.splitlines() == [
        "12: refused: ESME_RINVDSTADR (0x0000000B): invalid destination address",
        f"60123456789: accepted, message_id {record['trx_id']}",
    ]


def test_send_to_two_destinations_waits_for_each_ones_receipts(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "A long message. " * 15  # two parts, so two receipts per destination
    to = ["--to", "60123456789", "--to", "60198765432"]
    assert send(rig, *to, "--wait-receipt", text) == 0
    lines = capsys.readouterr().out.splitlines()
    for number in ("60123456789", "60198765432"):
        answers = [line for line in lines if line.startswith(f"{number} part ")]
        assert [line.split(":")[0] for line in answers] == [
            f"{number} part 1/2",
            f"{number} part 2/2",
        ]
        ids = [line.rsplit(" ", 1)[1] for line in answers]
        receipts = [line for line in lines if line.startswith(f"{number} receipt: ")]
        assert sorted(re.findall(r"receipt: id:(\S+)", "\n".join(receipts))) == sorted(ids)
        assert all("stat:ACCEPTD" in receipt for receipt in receipts)


def test_send_still_waits_for_the_accepted_destinations_receipt_when_another_is_refused(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send(rig, "--to", "60123456789", "--to", "12", "--wait-receipt", "hi") == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "12: refused: ESME_RINVDSTADR (0x0000000B): invalid destination address"
    assert re.fullmatch(r"60123456789 receipt: id:\d+ .* stat:ACCEPTD err:000 text:hi", lines[2])
    assert len(lines) == 3


def test_send_with_a_wrong_password_says_the_bind_was_refused(
    rig: MessagesRig, capsys: pytest.CaptureFixture[str]
) -> None:
    port = str(rig.server.port)
    login = ["--host", "127.0.0.1", "--port", port, "--system-id", "esme1", "--password", "nope"]
    assert main(["send", *login, "--to", "60123456789", "hi"]) == 2
    assert "bind refused: ESME_RINVPASWD" in capsys.readouterr().err


def test_send_to_a_port_nobody_listens_on_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    args = ["--host", "127.0.0.1", "--port", str(port), "--system-id", "a", "--password", "b"]
    assert main(["send", *args, "--to", "60123456789", "hi"]) == 2
    assert f"cannot reach 127.0.0.1:{port}" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_runs_the_sandbox_and_the_bridge_and_stops_cleanly_on_sigterm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_port = _free_port()
    config = tmp_path / "demo.toml"
    config.write_text(
        "[smpp]\nport = 0\n\n"
        f'[isms]\nendpoints = ["http://127.0.0.1:{sandbox_port}/isms_send_all_id.php"]\n\n'
        "[metrics]\nport = 0\n\n"
        '[[accounts]]\nsystem_id = "esme1"\npassword = "secret1"\n'
        'isms_username = "isms"\nisms_password = "isms123"\n',
        encoding="utf-8",
    )
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "bridge", "demo", "--config", str(config)],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
    try:
        deadline = time.monotonic() + 15
        while not (found := re.search(r"SMPP: +127\.0\.0\.1:(\d+)", out.read_text())):
            assert demo.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        printed = out.read_text()
        assert "bind as: system_id 'esme1', password 'secret1'" in printed
        assert f"sandbox: http://127.0.0.1:{sandbox_port}/ " in printed
        metrics = re.search(r"metrics: (http://127\.0\.0\.1:\d+/metrics)", printed)
        assert metrics is not None, printed
        login = ["--system-id", "esme1", "--password", "secret1"]
        assert main(["send", "--port", found.group(1), *login, "--to", "60123456789", "demo"]) == 0
        page = urllib.request.urlopen(f"http://127.0.0.1:{sandbox_port}/messages.json", timeout=5)
        assert [m["text"] for m in json.loads(page.read())["messages"]] == ["demo"]
        scraped = urllib.request.urlopen(metrics.group(1), timeout=5).read().decode()
        assert 'isms_bridge_smpp_submits_total{command="submit_sm"' in scraped
        # The command it suggests runs as printed, from where the demo was started.
        suggested = re.search(r"  try: +(.+)\n", printed)
        assert suggested is not None, printed
        tried = subprocess.run(
            shlex.split(suggested.group(1)), cwd=REPO, capture_output=True, text=True, timeout=30
        )
        assert tried.returncode == 0, tried.stdout + tried.stderr
        assert tried.stdout.startswith("accepted, message_id ")
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(15) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    capsys.readouterr()
