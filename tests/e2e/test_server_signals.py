"""`isms-bridge serve` as a real process: graceful stop on SIGTERM, forced stop, SIGHUP reload."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
from serve_process import LoggedProcess, ServeProcess

from bridge.pdu import CommandStatus

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

# `serve` with the pipeline made slow: a submit takes `sleep:S` seconds (in-flight work for the
# stop tests) and, given argv[2], its start takes that many seconds (a bridge not yet listening).
SLOW_SERVE = """
import asyncio, sys
from bridge.app import Bridge
from bridge.app.commands.serve import run_event_loop, serve
from bridge.app.logs import configure_logging
from bridge.config import load_config
from bridge.pdu import SubmitSmResp
from bridge.pipeline import MessagePipeline
from bridge.state import MemoryState

start = MessagePipeline.start

async def slow_handle(self, context, request):
    await asyncio.sleep(float(request.short_message.split(b":")[1]))
    return SubmitSmResp(message_id="slow-ok")

async def slow_start(self):
    print("handler_starting", flush=True)
    await asyncio.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
    await start(self)

MessagePipeline.handle = slow_handle
MessagePipeline.start = slow_start

async def main():
    return await serve(Bridge(load_config(sys.argv[1]), MemoryState()))

configure_logging("info")
sys.exit(run_event_loop(main))
"""


@pytest.fixture
def starting(tmp_path: Path) -> Iterator[Callable[[Path], LoggedProcess]]:
    """A bridge started with SLOW_SERVE, returned while its handler is still starting."""
    started: list[LoggedProcess] = []

    def start(config: Path) -> LoggedProcess:
        command = [sys.executable, "-c", SLOW_SERVE, str(config), "1.5"]
        process = LoggedProcess(command, tmp_path / f"starting{len(started)}.log", name="serve")
        started.append(process)
        process.wait_for("handler_starting")
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[ServeProcess] = []

    def start(config: Path, slow: bool = False) -> ServeProcess:
        command = [sys.executable, "-c", SLOW_SERVE, str(config)] if slow else None
        process = ServeProcess(config, tmp_path / f"serve{len(started)}.log", command=command)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def esme(port: int, system_id: str = "esme1", password: str = "secret1") -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transceiver(system_id=system_id, password=password)
    return client


def closed(client: smpplib.client.Client, timeout: float = 5.0) -> bool:
    client._socket.settimeout(timeout)
    try:
        while client._socket.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_sigterm_lets_the_submit_in_flight_finish_then_unbinds_and_exits_0(
    write_config, serve
) -> None:
    # log_bodies: the bridge logs each request as it starts it, so the test can wait for that.
    config = write_config(smpp={"response_timeout_s": 0.5, "log_bodies": True})
    bridge = serve(config, slow=True)
    client = esme(bridge.port)
    answers = []
    client.set_message_sent_handler(lambda pdu: answers.append((pdu.sequence, pdu.message_id)))
    sent = client.send_message(source_addr="A", destination_addr="601", short_message=b"sleep:1")
    bridge.wait_for(r"event=request_body")  # the submit is in the bridge's hands
    bridge.signal(signal.SIGTERM)
    client.read_once()
    assert answers == [(sent.sequence, b"slow-ok")]
    client.read_once()  # the bridge's unbind; smpplib does not answer it
    assert closed(client)
    assert bridge.wait() == 0
    log = bridge.log()
    assert "event=shutdown_started" in log and "event=unbind_sent" in log
    assert "reason=unbind_timeout" in log


def test_sigterm_with_an_esme_that_answers_unbind_closes_on_unbind_resp(
    write_config, serve
) -> None:
    bridge = serve(write_config(smpp={"response_timeout_s": 10}))
    client = esme(bridge.port)
    bridge.signal(signal.SIGTERM)
    unbind = client.read_pdu()
    assert unbind.command == "unbind"
    resp = smpplib.smpp.make_pdu("unbind_resp", client=client)
    resp.sequence = unbind.sequence  # an answer echoes the request's number
    client.send_pdu(resp)
    assert bridge.wait(timeout=5) == 0  # well before the 10 s response timer
    assert "reason=unbound" in bridge.log()


def test_a_second_sigterm_stops_at_once_with_status_1(write_config, serve) -> None:
    bridge = serve(write_config(smpp={"shutdown_timeout_s": 60, "log_bodies": True}), slow=True)
    client = esme(bridge.port)
    client.send_message(source_addr="A", destination_addr="601", short_message=b"sleep:60")
    bridge.wait_for(r"event=request_body")
    bridge.signal(signal.SIGTERM)
    bridge.wait_for(r"action=graceful_stop")
    bridge.signal(signal.SIGTERM)
    assert bridge.wait(timeout=5) == 1
    assert "action=stop_now" in bridge.log()


def test_sighup_unbinds_removed_accounts_keeps_the_others_and_admits_new_ones(
    write_config, serve
) -> None:
    two = [{"system_id": "esme1"}, {"system_id": "esme2", "password": "secret2"}]
    config = write_config(smpp={"response_timeout_s": 0.5}, accounts=two)
    bridge = serve(config)
    kept, removed = esme(bridge.port), esme(bridge.port, "esme2", "secret2")
    write_config(
        smpp={"response_timeout_s": 0.5},
        accounts=[{"system_id": "esme1"}, {"system_id": "esme3", "password": "secret3"}],
    )
    bridge.signal(signal.SIGHUP)
    bridge.wait_for(r"event=reloaded .*removed=esme2 sessions_unbound=1")
    removed.read_once()  # the unbind
    assert closed(removed)
    newcomer = esme(bridge.port, "esme3", "secret3")
    assert newcomer.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        esme(bridge.port, "esme2", "secret2")
    assert refused.value.args[1] == CommandStatus.ESME_RINVSYSID
    # The kept bind was never touched: it still gets answers.
    errors = []
    kept.set_error_pdu_handler(lambda pdu: errors.append(pdu.status))
    kept.send_message(source_addr="A", destination_addr="60123456789", short_message=b"hi")
    kept.read_once()
    assert errors == [CommandStatus.ESME_RSYSERR]  # iSMS (port 9) unreachable: not faked


def test_a_sigterm_while_the_bridge_starts_stops_it_gracefully_with_status_0(
    write_config, starting
) -> None:
    bridge = starting(write_config())
    bridge.signal(signal.SIGTERM)  # before its listeners are open
    assert bridge.wait() == 0
    log = bridge.log()
    assert "action=graceful_stop" in log and "event=shutdown_started" in log


def test_a_sighup_while_the_bridge_starts_rereads_the_config_once_it_listens(
    write_config, starting
) -> None:
    config = write_config()
    bridge = starting(config)
    config.write_text("[smpp]\nport = 'not a number'\n", encoding="utf-8")
    bridge.signal(signal.SIGHUP)  # before its listeners are open
    bridge.wait_for(r"event=reload_failed .*smpp\.port")
    assert bridge.running
    log = bridge.log()
    assert log.index("event=listening") < log.index("event=reload_failed")


def test_a_config_that_no_longer_loads_is_reported_and_the_accounts_stay(
    write_config, serve
) -> None:
    config = write_config()
    bridge = serve(config)
    config.write_text("[smpp]\nport = 'not a number'\n", encoding="utf-8")
    bridge.signal(signal.SIGHUP)
    bridge.wait_for(r"event=reload_failed .*smpp\.port")
    assert esme(bridge.port).state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX


def test_serve_answers_submits_rsyserr_while_isms_cannot_be_reached(write_config, serve) -> None:
    bridge = serve(write_config())
    client = esme(bridge.port)
    errors = []
    client.set_error_pdu_handler(lambda pdu: errors.append(pdu.status))
    client.send_message(source_addr="A", destination_addr="60123456789", short_message=b"hi")
    client.read_once()
    assert errors == [CommandStatus.ESME_RSYSERR]


def test_serve_with_a_bad_config_exits_2_naming_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[smpp]\nwindow = 0\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert str(config) in done.stderr and "smpp.window" in done.stderr


def test_the_first_sigint_says_what_it_waits_for_and_that_a_second_stops_at_once(
    write_config, serve
) -> None:
    bridge = serve(write_config(smpp={"shutdown_timeout_s": 60, "log_bodies": True}), slow=True)
    client = esme(bridge.port)
    client.send_message(source_addr="A", destination_addr="601", short_message=b"sleep:60")
    bridge.wait_for(r"event=request_body")
    bridge.signal(signal.SIGINT)  # Ctrl-C
    line = bridge.wait_for(r"event=signal signal=SIGINT action=graceful_stop .*")[0]
    assert "sessions_bound=1 requests_in_flight=1 timeout_s=60 " in line
    assert (
        'note="waiting at most 60 s for 1 bound session to unbind and 1 request in flight to '
        'be answered; a second Ctrl-C (or SIGTERM) stops at once"'
    ) in line
    bridge.signal(signal.SIGINT)
    assert bridge.wait(timeout=5) == 1


def serve_failing(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_listen_host_that_does_not_resolve_stops_the_start_naming_its_key(
    write_config,
) -> None:
    # .invalid never resolves (RFC 6761 §6.4): no real host is asked about.
    done = serve_failing(write_config(smpp={"host": "bridge.invalid"}))
    assert done.returncode == 3
    assert (
        "event=start_failed config=" in done.stderr
        and "key=smpp.host error=\"[smpp] host = 'bridge.invalid': cannot listen: " in done.stderr
    ), done.stderr


def test_a_port_in_use_stops_the_start_naming_the_key_and_the_port(write_config) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = serve_failing(write_config(smpp={"port": port}))
    assert done.returncode == 3
    assert (
        f"key=smpp.host error=\"[smpp] host = '127.0.0.1' (port {port}): cannot listen: "
        'Address already in use"' in done.stderr
    ), done.stderr
