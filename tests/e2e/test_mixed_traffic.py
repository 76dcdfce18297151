"""One production-like day on ONE `isms-bridge serve` process: everything at once.

The day (TRAFFIC_S seconds of traffic, then up to DRAIN_S for the last answers and receipts):
- Four shops (shop1-shop4), each an account with one smpplib transceiver, submit ordinary
  messages with registered_delivery=1 from start to end; each takes its receipts on the
  session it submits on, so the order of answer and receipt is seen on one wire.
- iSMS misbehaves now and then (the sandbox's reserved numbers, sent by `ops`): HTTP 500, an
  HTML page with HTTP 200 (a captive portal), a reply 1.5 s late, and one 4 s late, past
  timeout_s (an unknown outcome). The first mirror of `[isms] endpoints` is dead all day (a
  closed port): every message that reaches it is refused there and fails over.
- A probe ESME sends malformed PDUs in three rounds: an unknown command_id, a submit_sm whose
  source_addr has no NUL in 21 octets, one whose sm_length runs past the end, and
  command_lengths of 8 and 2 GiB on fresh connections.
- A fleet binds 200 transmitters of one account (max_binds 250) from one host, 127.0.0.2,
  at the default max_connections_per_address, holds them to the end of the traffic, then
  asks each an enquire_link.
- `crm` submits with receipts from a transmitter; its receipts go to two receivers: a silent
  one (bound first, never answers a deliver_sm) and a healthy one bound after it.
- `news` submits with receipts; its only receiver is slow (each deliver_sm answered 50-200 ms
  late).

The same process serves the whole day (module scope); each test asks one thing of it. The
state is in memory, the window is 10 and response_timeout_s 30 s (see `write_config`).
"""

from __future__ import annotations

import random
import re
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from real_parts import free_port
from serve_process import LoggedProcess, ServeProcess

from bridge.pdu import BindTransceiver, EnquireLink, EnquireLinkResp

from .loopback import ACCOUNT, SMPP, RawEsme, Toml, config_text
from .malformed_probe import MalformedProbe
from .mixed_traffic_actors import (
    ORDINARY_NUMBER,
    Actor,
    Crowd,
    Receiver,
    Schedule,
    Sender,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(120)]

TRAFFIC_S = 15.0
DRAIN_S = 8.0  # at most: the drain ends once every answer and receipt owed is in
RECEIPT_WITHIN_S = 3.0  # from the submit_sm_resp to its receipt, on a healthy receiver
WINDOW = 10  # [smpp] window: what a silent receiver can hold at most
SHOPS = ("shop1", "shop2", "shop3", "shop4")
CROWD = 200
CROWD_HOST = "127.0.0.2"  # one host (all of 127.0.0.0/8 is loopback), the crowd's alone
PASSWORD = "secret1"
PROBE_ROUNDS = (2.0, 7.0, 12.0)  # seconds into the traffic
# What serve logs when a message is not sent or its outcome is unknown.
UPSTREAM_TROUBLE = r"outcome (unknown|not_sent)|breaker"

# The sandbox's reserved destinations and the status each must be answered with (SMPP 3.4
# §5.1.3 values): HTTP 500 and a page that is no iSMS reply are unknown outcomes, answered
# with the default unknown_outcome_status ESME_RSYSERR (0x08); a reply 1.5 s late is in
# time (ESME_ROK); one 4 s late passes timeout_s = 3, an unknown outcome again.
FAULTS = {
    "60000000500": 0x08,
    "60000002003": 0x08,
    "60000009015": 0x00,
    "60000009040": 0x08,
}


def account(system_id: str, **keys: object) -> Toml:
    return {**ACCOUNT, "system_id": system_id, "password": PASSWORD, **keys}


def write_config(folder: Path, sandbox_port: int) -> Path:
    dead = f"http://127.0.0.1:{free_port()}/isms_send_all_id.php"  # nobody listens there
    alive = f"http://127.0.0.1:{sandbox_port}/isms_send_all_id.php"
    tables: list[tuple[str, Toml]] = [
        # A deliver_sm nobody answers holds its window slot for response_timeout_s (the
        # default, 30 s): longer than the day, so the silent receiver stays full throughout.
        ("[smpp]", {**SMPP, "window": WINDOW, "response_timeout_s": 30.0}),
        ("[isms]", {"endpoints": [dead, alive], "timeout_s": 3.0}),
        ("[metrics]", {"port": 0}),
        # The memory backend: a receipt's enqueue and its take finish in the same loop turn,
        # so it races its own submit_sm_resp hardest there (on SQLite the writer thread's
        # round trip mostly hides the race that the wire-order test is about).
        ("[state]", {"backend": "memory"}),
        *(("[[accounts]]", account(shop)) for shop in SHOPS),
        ("[[accounts]]", account("ops")),
        ("[[accounts]]", account("probe")),
        ("[[accounts]]", account("crm")),
        ("[[accounts]]", account("news")),
        ("[[accounts]]", account("fleet", max_binds=CROWD + 50)),
    ]
    path = folder / "bridge.toml"
    path.write_text(config_text(tables), encoding="utf-8")
    return path


def every(interval_s: float, destination: str = ORDINARY_NUMBER) -> list[tuple[float, str]]:
    """A plan: one message each `interval_s` through the traffic, starting at once."""
    count = int(TRAFFIC_S / interval_s)
    return [(i * interval_s, destination) for i in range(count)]


def fault_plan() -> list[tuple[float, str]]:
    """The faults in turn, one each 1.5 s from 1 s: each lands among the shops' messages."""
    cycle = list(FAULTS)
    return [(1.0 + 1.5 * i, cycle[i % len(cycle)]) for i in range(9)]


@dataclass
class Day:
    """Everyone of the day, each an actor thread with what it saw."""

    bridge: ServeProcess
    silent: Receiver
    healthy: Receiver
    slow: Receiver
    shops: list[Sender]
    ops: Sender
    crm: Sender
    news: Sender
    probe: MalformedProbe
    crowd: Crowd
    seconds: float = 0.0

    def log_lines(self, pattern: str, limit: int = 6) -> str:
        """The first `limit` lines of serve's log matching `pattern`, for a failure message."""
        found = [line for line in self.bridge.log().splitlines() if re.search(pattern, line)]
        more = f"\n... {len(found) - limit} more" if len(found) > limit else ""
        return "\n".join(found[:limit]) + more


def cast(bridge: ServeProcess, schedule: Schedule) -> Day:
    port = bridge.port
    rng = random.Random(25)

    def receiver(name: str, system_id: str, answer_delay: Callable[[], float | None]) -> Receiver:
        return Receiver(
            name, port, schedule, system_id=system_id, password=PASSWORD, answer_delay=answer_delay
        )

    def sender(name: str, bind: str, plan: list[tuple[float, str]], receipts: bool) -> Sender:
        return Sender(
            name,
            port,
            schedule,
            system_id=name,
            password=PASSWORD,
            bind=bind,
            plan=plan,
            registered_delivery=int(receipts),
        )

    return Day(
        bridge=bridge,
        silent=receiver("crm-silent", "crm", lambda: None),
        healthy=receiver("crm-healthy", "crm", lambda: 0.0),
        slow=receiver("news-slow", "news", lambda: rng.uniform(0.05, 0.2)),
        shops=[sender(shop, "transceiver", every(0.25), receipts=True) for shop in SHOPS],
        ops=sender("ops", "transmitter", fault_plan(), receipts=False),
        crm=sender("crm", "transmitter", every(0.2), receipts=True),
        news=sender("news", "transmitter", every(0.25), receipts=True),
        probe=MalformedProbe(
            port, schedule, system_id="probe", password=PASSWORD, rounds_at=PROBE_ROUNDS
        ),
        crowd=Crowd(
            port,
            schedule,
            system_id="fleet",
            password=PASSWORD,
            source=CROWD_HOST,
            count=CROWD,
            start_s=3.0,
            release_s=TRAFFIC_S,
        ),
    )


def run_day(bridge: ServeProcess) -> Day:
    started = time.monotonic()
    schedule = Schedule(start=started + 1.0, traffic_s=TRAFFIC_S, drain_s=DRAIN_S)
    day = cast(bridge, schedule)
    receivers = (day.silent, day.healthy, day.slow)
    # The receivers bind first, one after another: the silent one is crm's oldest session.
    for receiver in receivers:
        receiver.start()
        receiver.bound.wait(10)
    busy: list[Actor] = [*day.shops, day.ops, day.crm, day.news, day.probe, day.crowd]
    for actor in busy:
        actor.start()
    for actor in busy:
        actor.join(max(0.0, schedule.end - time.monotonic()) + 10)
    # The receivers stay until the receipts they can still get are in, or the day ends.
    while time.monotonic() < schedule.end and not (
        owed_to(day.crm, day.healthy, day.silent) <= set(day.healthy.receipts)
        and owed_to(day.news, day.slow) <= set(day.slow.receipts)
    ):
        time.sleep(0.05)
    for receiver in receivers:
        receiver.stop.set()
        receiver.join(5)
    day.seconds = time.monotonic() - started
    return day


def owed_to(sender: Sender, receiver: Receiver, *holding: Receiver) -> set[str]:
    """Ids of the sender's accepted messages whose receipt `receiver` is to get: all but
    those a receiver in `holding` took (and never answered)."""
    # set(a_dict) copies in one step (the receivers are still adding to theirs).
    held = set().union(*(set(other.receipts) for other in holding))
    return {a.message_id for a in sender.accepted() if a.message_id} - held


def enough_file_descriptors() -> None:
    """Room for the crowd's sockets here and in serve (which inherits the limit, and keeps
    a few hundred descriptors back for itself)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * CROWD + 1024
    if soft < wanted:
        assert hard == resource.RLIM_INFINITY or hard >= wanted, f"ulimit -Hn {hard} < {wanted}"
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    enough_file_descriptors()
    folder = tmp_path_factory.mktemp("mixed_traffic")
    sandbox_port = free_port()
    sandbox = LoggedProcess(
        [sys.executable, "-m", "bridge", "sandbox", "--port", str(sandbox_port)],
        folder / "sandbox.log",
        name="sandbox",
    )
    try:
        sandbox.wait_for(r"iSMS sandbox listening")
        bridge = ServeProcess(write_config(folder, sandbox_port), folder / "serve.log")
        try:
            yield run_day(bridge)
        finally:
            bridge.stop()
    finally:
        sandbox.stop()


def first_failure(*actors: Actor) -> str | None:
    return next((actor.failure for actor in actors if actor.failure), None)


# --- the shops: answers and receipts ----------------------------------------------------------


def status_text(status: int | None) -> str:
    return "no answer" if status is None else f"0x{status:08X}"


def first(values: Sequence[object], count: int = 15) -> str:
    return f"{list(values[:count])}{' ...' if len(values) > count else ''}"


def test_normal_esmes_get_esme_rok_for_every_submit_while_faults_happen(day: Day) -> None:
    assert first_failure(*day.shops) is None, first_failure(*day.shops)
    sends = sorted(a.sent_at for shop in day.shops for a in shop.answers.values())
    assert len(sends) >= len(SHOPS) * len(every(0.25)) * 0.9, f"only {len(sends)} submits sent"
    during = [a for a in day.ops.answers.values() if sends[0] < a.sent_at < sends[-1]]
    assert len(during) == len(fault_plan()), "the faults did not happen during the shops' day"
    refused: dict[str, int] = {}
    for shop in day.shops:
        for answer in shop.answers.values():
            if answer.status != 0:
                key = f"{shop.name} {status_text(answer.status)}"
                refused[key] = refused.get(key, 0) + 1
    assert not refused, (
        f"of {len(sends)} ordinary submits, not ESME_ROK: {refused}; serve's log:\n"
        f"{day.log_lines(UPSTREAM_TROUBLE)}"
    )


def test_every_receipt_of_a_normal_message_arrives_within_seconds(day: Day) -> None:
    late: dict[str, int] = {}
    worst = 0.0
    accepted = 0
    for shop in day.shops:
        for answer in shop.accepted():
            accepted += 1
            arrived = shop.receipts.get(answer.message_id or "")
            assert answer.answered_at is not None
            delay = float("inf") if arrived is None else arrived - answer.answered_at
            worst = max(worst, delay)
            if delay > RECEIPT_WITHIN_S:
                late[shop.name] = late.get(shop.name, 0) + 1
    assert accepted, "no shop message was accepted: nothing to judge"
    assert not late, (
        f"receipts later than {RECEIPT_WITHIN_S:g} s after their submit_sm_resp (or never), "
        f"of {accepted} accepted: {late}; worst {worst:.2f} s"
    )


def test_no_receipt_precedes_the_submit_sm_resp_carrying_its_id(day: Day) -> None:
    early: list[str] = []
    receipts = 0
    for shop in day.shops:
        answered: set[str] = set()
        for kind, message_id in shop.wire:
            if kind == "resp":
                answered.add(message_id)
            else:
                receipts += 1
                if message_id not in answered:
                    early.append(f"{shop.name}:{message_id}")
    assert receipts, "no receipt arrived on any shop session: nothing to judge"
    assert not early, (
        f"{len(early)} of {receipts} receipts came before the submit_sm_resp carrying their "
        f"id, on the same session: {first(early)}"
    )


def test_fault_replies_from_isms_get_their_own_answers(day: Day) -> None:
    assert day.ops.failure is None, day.ops.failure
    got = [(a.destination, a.status) for a in day.ops.answers.values()]
    expected = [(a.destination, FAULTS[a.destination]) for a in day.ops.answers.values()]
    assert len(got) == len(fault_plan())
    assert got == expected, (
        f"(destination, status) per fault:\n{got}\nserve's log:\n{day.log_lines(UPSTREAM_TROUBLE)}"
    )


# --- malformed PDUs, many binds -------------------------------------------------------------


def test_malformed_pdus_get_their_error_answer_and_the_session_serves_on(day: Day) -> None:
    assert day.probe.failure is None, day.probe.failure
    wrong = [e for e in day.probe.exchanges if e.got != e.expected]
    assert len(day.probe.exchanges) == len(PROBE_ROUNDS) * 7  # seven exchanges a round
    assert not wrong, "\n".join(f"{e.case}: expected {e.expected}, got {e.got}" for e in wrong)


def test_two_hundred_binds_from_one_host_all_succeed(day: Day) -> None:
    assert day.crowd.failure is None, day.crowd.failure
    refused: dict[str, int] = {}
    for outcome in day.crowd.outcomes:
        if outcome != "ESME_ROK":
            refused[outcome] = refused.get(outcome, 0) + 1
    assert len(day.crowd.outcomes) == CROWD
    assert not refused, (
        f"of {CROWD} binds from {CROWD_HOST}, refused: {refused}; serve's log:\n"
        f"{day.log_lines(r'connection_refused')}"
    )
    assert day.crowd.alive == CROWD, f"{day.crowd.alive} of {CROWD} answered enquire_link"


# --- receivers that are slow or silent ------------------------------------------------------


def test_a_silent_receiver_does_not_hold_back_receipts_to_a_healthy_one(day: Day) -> None:
    actors = (day.crm, day.silent, day.healthy)
    assert first_failure(*actors) is None, first_failure(*actors)
    accepted = day.crm.accepted()
    assert len(accepted) >= 20, f"only {len(accepted)} crm messages accepted: too few to judge"
    held = set(day.silent.receipts)
    assert len(held) <= WINDOW, f"the silent receiver holds {len(held)}, past the window"
    late = []
    for answer in accepted:
        if answer.message_id in held:
            continue  # sent to the silent receiver: it is that receipt's own delay
        arrived = day.healthy.receipts.get(answer.message_id or "")
        assert answer.answered_at is not None
        if arrived is None or arrived - answer.answered_at > RECEIPT_WITHIN_S:
            late.append(None if arrived is None else round(arrived - answer.answered_at, 2))
    assert not late, (
        f"{len(late)} of {len(accepted) - len(held)} crm receipts not held by the silent "
        f"receiver reached the healthy one later than {RECEIPT_WITHIN_S:g} s (None: never): "
        f"{first(late)}; the healthy receiver got {len(day.healthy.receipts)}, the silent one "
        f"holds {len(held)}; serve's log:\n{day.log_lines(r'event=receipt')}"
    )


def test_a_slow_receiver_gets_every_receipt_of_its_account_within_seconds(day: Day) -> None:
    actors = (day.news, day.slow)
    assert first_failure(*actors) is None, first_failure(*actors)
    accepted = day.news.accepted()
    assert len(accepted) >= 20, f"only {len(accepted)} news messages accepted: too few to judge"
    late = []
    for answer in accepted:
        arrived = day.slow.receipts.get(answer.message_id or "")
        assert answer.answered_at is not None
        if arrived is None or arrived - answer.answered_at > RECEIPT_WITHIN_S:
            late.append(None if arrived is None else round(arrived - answer.answered_at, 2))
    assert not late, (
        f"{len(late)} of {len(accepted)} news receipts later than {RECEIPT_WITHIN_S:g} s "
        f"(None: never): {first(late)}; serve's log:\n{day.log_lines(r'event=receipt')}"
    )


# --- the process itself -----------------------------------------------------------------------


def test_the_same_process_served_the_whole_day_and_still_binds(day: Day) -> None:
    assert day.bridge.running, day.bridge.log()[-3000:]
    assert "Traceback" not in day.bridge.log(), day.log_lines(r"Traceback|ERROR", limit=20)
    esme = RawEsme("127.0.0.1", day.bridge.port)
    try:
        esme.send(BindTransceiver(system_id="probe", password=PASSWORD))
        assert esme.read().command_status == 0
        [sequence_number] = esme.send(EnquireLink())
        assert esme.read() == EnquireLinkResp(sequence_number=sequence_number)
    finally:
        esme.close()
    assert day.seconds < 45, f"the day took {day.seconds:.1f} s"
