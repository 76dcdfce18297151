"""The ESMEs of one mixed-traffic day against a `serve` process (test_mixed_traffic.py).

Each actor is a thread with its own sockets. It writes down what it saw, in the order the
bytes arrived and with the time it saw it (time.monotonic), and never raises: what went
wrong is kept in `failure`, so a broken actor fails the test about it, not the whole day.
Every loop ends by a count or by the day's deadline (`Schedule.end`).

- `Sender`: an smpplib ESME submitting a plan of (seconds after the start, destination);
  on a transceiver it also takes its own receipts, answering each at once.
- `Receiver`: a plain-socket bind_receiver answering each deliver_sm after `answer_delay()`
  seconds, or never (None: a silent receiver).
- `Crowd`: many binds of one account from one host, held, then checked alive.
"""

from __future__ import annotations

import dataclasses
import heapq
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import smpplib.client

from bridge.pdu import (
    BindReceiver,
    BindTransmitter,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Tag,
    Unbind,
    UnbindResp,
)

from .loopback import RawEsme

HOST = "127.0.0.1"
POLL_S = 0.01  # how often a thread looks at its socket when nothing is due
ORDINARY_NUMBER = "60123456789"


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The day's clock: traffic from `start` for `traffic_s`, all over by `end`."""

    start: float
    traffic_s: float
    drain_s: float

    @property
    def end(self) -> float:
        return self.start + self.traffic_s + self.drain_s

    def at(self, offset: float) -> float:
        return self.start + offset

    def wait_until(self, offset: float) -> None:
        delay = self.at(offset) - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class Actor(threading.Thread):
    """A thread that keeps its failure instead of raising it."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.failure: str | None = None
        self.bound = threading.Event()  # set once its (first) bind was accepted

    def run(self) -> None:
        try:
            self.act()
        except BaseException as exc:  # kept for the test that asks about this actor
            self.failure = f"{self.name}: {exc!r}\n{traceback.format_exc()}"
        finally:
            self.bound.set()  # nobody waits forever on an actor that failed to bind

    def act(self) -> None:
        raise NotImplementedError


# --- submitting ESMEs (smpplib) -------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    destination: str
    sent_at: float
    status: int | None = None  # None: not answered
    message_id: str | None = None
    answered_at: float | None = None


class Sender(Actor):
    """An smpplib ESME submitting `plan` with at most `in_flight` unanswered at a time."""

    def __init__(
        self,
        name: str,
        port: int,
        schedule: Schedule,
        *,
        system_id: str,
        password: str,
        bind: str,
        plan: Sequence[tuple[float, str]],
        registered_delivery: int,
        in_flight: int = 4,
    ) -> None:
        super().__init__(name)
        self._port = port
        self._schedule = schedule
        self._system_id = system_id
        self._password = password
        self._bind = bind
        self._plan = sorted(plan)
        self._registered_delivery = registered_delivery
        self._in_flight = in_flight
        self.answers: dict[int, Answer] = {}  # by sequence_number, in sending order
        # What arrived, in wire order: ("resp", message_id) and ("receipt", receipted id).
        self.wire: list[tuple[str, str]] = []
        self.receipts: dict[str, float] = {}  # receipted_message_id -> first arrival

    def accepted(self) -> list[Answer]:
        return [a for a in self.answers.values() if a.status == 0 and a.message_id]

    def settled(self) -> bool:
        """Everything sent is answered and, on a transceiver asking for receipts, every
        accepted message's receipt is here."""
        if any(a.status is None for a in self.answers.values()):
            return False
        if self._bind != "transceiver" or not self._registered_delivery:
            return True
        return all(a.message_id in self.receipts for a in self.accepted())

    def act(self) -> None:
        client = smpplib.client.Client(HOST, self._port, timeout=5, allow_unknown_opt_params=True)
        client.connect()
        try:
            getattr(client, f"bind_{self._bind}")(
                system_id=self._system_id, password=self._password
            )
            self.bound.set()
            client.set_message_sent_handler(self._answered)
            client.set_message_received_handler(self._received)
            client.set_error_pdu_handler(lambda pdu: None)  # statuses are kept by _answered
            self._converse(client)
        finally:
            client.disconnect()

    def _converse(self, client: smpplib.client.Client) -> None:
        planned = 0
        while time.monotonic() < self._schedule.end:
            now = time.monotonic()
            while (
                planned < len(self._plan)
                and self._schedule.at(self._plan[planned][0]) <= now
                and self._unanswered() < self._in_flight
            ):
                self._submit(client, planned)
                planned += 1
            if planned == len(self._plan) and self.settled():
                return
            client.poll(auto_send_enquire_link=False)
            time.sleep(POLL_S)

    def _unanswered(self) -> int:
        return sum(1 for a in self.answers.values() if a.status is None)

    def _submit(self, client: smpplib.client.Client, index: int) -> None:
        destination = self._plan[index][1]
        pdu = client.send_message(
            source_addr="MyBrand",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=destination,
            short_message=f"{self.name} message {index}".encode(),
            registered_delivery=self._registered_delivery,
        )
        self.answers[pdu.sequence] = Answer(destination=destination, sent_at=time.monotonic())

    def _answered(self, pdu: Any) -> None:
        answer = self.answers.get(pdu.sequence)
        if answer is None or answer.status is not None:
            return
        answer.status = int(pdu.status)
        answer.message_id = pdu.message_id.decode() if pdu.message_id else None
        answer.answered_at = time.monotonic()
        self.wire.append(("resp", answer.message_id or ""))

    def _received(self, pdu: Any) -> None:
        receipted = getattr(pdu, "receipted_message_id", None)
        message_id = receipted.decode() if receipted else "?"
        self.wire.append(("receipt", message_id))
        self.receipts.setdefault(message_id, time.monotonic())
        # Returning None answers the deliver_sm with ESME_ROK (smpplib).


# --- receivers (plain sockets: the delay of each deliver_sm_resp is the test's) --------------


class Receiver(Actor):
    """bind_receiver; each deliver_sm answered `answer_delay()` seconds later, or never."""

    def __init__(
        self,
        name: str,
        port: int,
        schedule: Schedule,
        *,
        system_id: str,
        password: str,
        answer_delay: Callable[[], float | None],
    ) -> None:
        super().__init__(name)
        self._port = port
        self._schedule = schedule
        self._system_id = system_id
        self._password = password
        self._answer_delay = answer_delay
        self.stop = threading.Event()
        self.receipts: dict[str, float] = {}  # receipted_message_id -> first arrival

    def act(self) -> None:
        esme = RawEsme(HOST, self._port)
        try:
            esme.send(BindReceiver(system_id=self._system_id, password=self._password))
            answer = esme.read()
            if answer.command_status != 0:
                raise AssertionError(f"bind_receiver answered {answer}")
            self.bound.set()
            self._listen(esme)
        finally:
            esme.close()

    def _listen(self, esme: RawEsme) -> None:
        owed: list[tuple[float, int]] = []  # (when, sequence_number) of answers to send
        while not self.stop.is_set() and time.monotonic() < self._schedule.end:
            now = time.monotonic()
            while owed and owed[0][0] <= now:
                esme.send(DeliverSmResp(sequence_number=heapq.heappop(owed)[1]))
            wait = min(POLL_S, owed[0][0] - now) if owed else POLL_S
            try:
                pdu = esme.read(timeout=max(wait, 0.001))
            except TimeoutError:
                continue
            if isinstance(pdu, DeliverSm):
                receipted = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
                self.receipts.setdefault(str(receipted), time.monotonic())
                delay = self._answer_delay()
                if delay is not None:
                    heapq.heappush(owed, (time.monotonic() + delay, pdu.sequence_number))
            elif isinstance(pdu, EnquireLink):
                esme.send(EnquireLinkResp(sequence_number=pdu.sequence_number))
            elif isinstance(pdu, Unbind):
                esme.send(UnbindResp(sequence_number=pdu.sequence_number))
                return


# --- many binds from one host ---------------------------------------------------------------


class Crowd(Actor):
    """`count` bind_transmitter of one account from `source`, one after another from
    `start_s`; held until `release_s`, then each asked an enquire_link and closed."""

    def __init__(
        self,
        port: int,
        schedule: Schedule,
        *,
        system_id: str,
        password: str,
        source: str,
        count: int,
        start_s: float,
        release_s: float,
    ) -> None:
        super().__init__("crowd")
        self._port = port
        self._schedule = schedule
        self._system_id = system_id
        self._password = password
        self._source = source
        self._count = count
        self._start_s = start_s
        self._release_s = release_s
        self.outcomes: list[str] = []  # per bind: "ESME_ROK", an error status, or what broke
        self.alive = 0  # bound sessions still answering enquire_link at release time

    def act(self) -> None:
        self._schedule.wait_until(self._start_s)
        held: list[RawEsme] = []
        try:
            for _ in range(self._count):
                esme, outcome = self._bind_one()
                self.outcomes.append(outcome)
                if esme is not None:
                    held.append(esme)
            self.bound.set()
            self._schedule.wait_until(self._release_s)
            self.alive = _answering_enquire_link(held)
        finally:
            for esme in held:
                esme.close()

    def _bind_one(self) -> tuple[RawEsme | None, str]:
        try:
            esme = RawEsme(HOST, self._port, source=self._source)
        except OSError as exc:
            return None, f"connect failed: {exc}"
        try:
            esme.send(BindTransmitter(system_id=self._system_id, password=self._password))
            answer = esme.read(timeout=5)
        except (AssertionError, OSError) as exc:  # closed, reset or timed out
            esme.close()
            return None, f"no bind_transmitter_resp: {exc}"
        if answer.command_status != 0:
            esme.close()
            return None, f"status 0x{answer.command_status:08X}"
        return esme, "ESME_ROK"


def _answering_enquire_link(sessions: list[RawEsme]) -> int:
    for esme in sessions:
        esme.send(EnquireLink(sequence_number=7))
    alive = 0
    for esme in sessions:
        try:
            answer = esme.read(timeout=5)
        except (AssertionError, OSError):
            continue
        alive += isinstance(answer, EnquireLinkResp) and answer.sequence_number == 7
    return alive
