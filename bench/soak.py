"""Soak: `isms-bridge serve` under load, SIGKILLed `--kills` times, and what the kills broke.

Run: .venv/bin/python bench/soak.py [--kills 20] [--seconds-between 3] [--rate 40]
                                    [--long-share 0.15] [--seed 1] [--reassembly-timeout 20]

Parties, each its own process: the iSMS sandbox (85 % of the messages to an ordinary number,
10 % to 60000009010 and 5 % to 60000009030, answered 1 s and 3 s after the sandbox has them,
so kills land while requests are at iSMS) and `isms-bridge serve` at its defaults (SQLite
state beside its config in a temp dir, kept across restarts; `[metrics] port = 0`) but for
`[messages] reassembly_timeout_s` = `--reassembly-timeout` (20 s, not 120 s: a long message a
kill strands expires within the run). The ESMEs are here: four asyncio transceivers on one
account, each its own source_addr, `registered_delivery = 1`, a window of 10, `--long-share`
of the messages in two parts (UDH 05 00 03 ref 02 seq), answering every deliver_sm. When the
bridge dies they reconnect, bind, and first resend each submit that got no answer, as real
ESMEs do; those resends are counted apart (they may legitimately cause a second send).

Kills: SIGKILL `--seconds-between` x 0.5..1.5 after the restarted bridge listens, and every
fourth one ~1 s after an ESME sent the last part of a long message to 60000009030 (its
request is at iSMS, the answer 2 s away: the known bad case); then `serve` starts again on the
same config (its `event=state_recovered` line is shown). After the last kill no new messages
are made: the resends are answered, the script waits (up to `--settle`, 30 s) for every
answered message_id's receipt, asks query_sm for each, and prints the figures. Each text
carries a tag ("soak 000123") that the sandbox's /messages.json shows, so what iSMS received
is matched to what the ESMEs sent. Figures only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parties import (  # noqa: E402 (bench/ beside this script)
    PASSWORD,
    SANDBOX_PASSWORD,
    SANDBOX_USER,
    SYSTEM_ID,
    free_port,
    start_sandbox,
)

from bridge.pdu import (  # noqa: E402
    BindTransceiver,
    BindTransceiverResp,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Pdu,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    decode,
    encode,
)

HEADER = struct.Struct(">IIII")
ORDINARY, REPLY_1S, REPLY_3S = "60123456789", "60000009010", "60000009030"
DESTINATIONS = (ORDINARY, REPLY_1S, REPLY_3S)
DESTINATION_WEIGHTS = (0.85, 0.10, 0.05)
ESMES, WINDOW = 4, 10
TARGET_EVERY = 4  # every fourth kill lands ~1 s after a long message's last part to REPLY_3S
TARGET_DELAY_S = 1.0
START_TIMEOUT_S = 30.0
BACKLOG_MAX = 50  # messages an ESME queues while it waits for its window
TAG = re.compile(r"soak (\d{6})")
RECEIPT = re.compile(rb"id:(\S+) .*stat:(\w+) err:(\d+)")
ENROUTE = 1
# SMPP 3.4 §5.2.28 message_state by value; 0 is ours: query_sm got no answer.
STATE_NAMES = dict(enumerate(("none", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED",
                              "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED")))  # fmt: skip


# --- what the ESMEs sent and what came back --------------------------------------------------


@dataclass
class Message:
    """One message the ESMEs owe the world: one part, or two with a UDH."""

    tag: int
    source: str
    destination: str
    parts: list[bytes]  # each submit_sm's short_message
    probe: bool = False  # sent just before a targeted kill
    reference: int = 0  # the UDH reference, fixed when queued (a resend carries the same)
    attempts: list[int] = field(default_factory=list)  # submit_sm sent, per part
    ids: list[list[str]] = field(default_factory=list)  # message_ids answered ESME_ROK, per part

    def __post_init__(self) -> None:
        self.attempts = [0] * len(self.parts)
        self.ids = [[] for _ in self.parts]

    @property
    def resent(self) -> bool:
        return any(count > 1 for count in self.attempts)


@dataclass
class Ledger:
    """Everything the ESMEs sent and heard, shared by all of them."""

    messages: dict[int, Message] = field(default_factory=dict)
    owner: dict[str, tuple[int, int]] = field(default_factory=dict)  # message_id -> (tag, part)
    receipts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # id -> (stat, err)
    early_receipts: int = 0  # read before their submit_sm_resp (which came on another bind)
    refusals: Counter[int] = field(default_factory=Counter)  # submit_sm_resp status != 0
    resends: int = 0  # submit_sm sent again after the first got no answer
    bind_refusals: int = 0
    generic_nacks: int = 0
    queries: dict[str, int] = field(default_factory=dict)  # id -> message_state, or -status

    def new_message(self, source: str, to: str, long: bool, probe: bool = False) -> Message:
        tag = len(self.messages) + 1
        if long:
            head = f"soak {tag:06d} long message from {source} to {to}, part one "
            parts = [head.ljust(150, "x").encode(), b" and part two, the end of it"]
        else:
            parts = [f"soak {tag:06d} one part from {source} to {to}".encode()]
        message = Message(tag=tag, source=source, destination=to, parts=parts, probe=probe)
        self.messages[tag] = message
        return message


class Esme:
    """One transceiver bind that keeps up to WINDOW submits in flight, reconnects when the
    bridge dies and then resends first what got no answer."""

    def __init__(self, index: int, port: int, ledger: Ledger) -> None:
        self.source = f"Soak{index}"
        self.port, self.ledger = port, ledger
        self.outbox: deque[tuple[Message, int]] = deque()
        self.in_flight: dict[int, tuple[Message, int]] = {}
        self.queries: dict[int, str] = {}
        self.references: Counter[str] = Counter()  # per destination: the UDH reference
        self.sequence = 1
        self.writer: asyncio.StreamWriter | None = None
        self.bound = asyncio.Event()
        self.wake = asyncio.Event()

    def queue(self, message: Message) -> None:
        self._reference(message)
        self.outbox.extend((message, part) for part in range(len(message.parts)))
        self.wake.set()

    def send_now(self, message: Message) -> None:
        """Every part at once, past the window (the targeted kill's probe)."""
        self._reference(message)
        for part in range(len(message.parts)):
            self._submit(message, part)

    def _reference(self, message: Message) -> None:
        # One counter per destination: the reassembly key is (account, source, destination,
        # reference, total), so it wraps only after 256 long messages to one number.
        if len(message.parts) > 1:
            self.references[message.destination] += 1
            message.reference = self.references[message.destination] % 256

    @property
    def busy(self) -> bool:
        return bool(self.outbox or self.in_flight)

    async def run(self) -> None:
        """Bind and submit until cancelled; reconnect whenever the connection ends."""
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            self.writer, self.sequence = writer, 1
            writer.write(encode(BindTransceiver(system_id=SYSTEM_ID, password=PASSWORD,
                                                sequence_number=1)))  # fmt: skip
            pump = asyncio.create_task(self._pump())
            try:
                await self._read(reader)
            finally:
                pump.cancel()
                self.bound.clear()
                self.writer = None
                writer.close()
                # No answer came for these: resend them first, in their order.
                unanswered = [self.in_flight[s] for s in sorted(self.in_flight)]
                self.outbox.extendleft(reversed(unanswered))
                self.in_flight.clear()
                self.queries.clear()
            await asyncio.sleep(0.1)

    async def _pump(self) -> None:
        await self.bound.wait()
        while True:
            while self.outbox and len(self.in_flight) < WINDOW:
                self._submit(*self.outbox.popleft())
            self.wake.clear()
            await self.wake.wait()

    def _submit(self, message: Message, part: int) -> None:
        assert self.writer is not None
        self.sequence += 1
        if message.attempts[part]:
            self.ledger.resends += 1
        message.attempts[part] += 1
        self.in_flight[self.sequence] = (message, part)
        long = len(message.parts) > 1
        udh = bytes([5, 0, 3, message.reference, len(message.parts), part + 1]) if long else b""
        self.writer.write(encode(SubmitSm(
            sequence_number=self.sequence, source_addr=self.source, dest_addr_ton=1,
            dest_addr_npi=1, destination_addr=message.destination, esm_class=0x40 if long else 0,
            registered_delivery=1, short_message=udh + message.parts[part],
        )))  # fmt: skip

    def may_query(self) -> bool:
        return self.bound.is_set() and len(self.queries) < WINDOW

    def query(self, message_id: str) -> None:
        assert self.writer is not None
        self.sequence += 1
        self.queries[self.sequence] = message_id
        self.writer.write(encode(QuerySm(sequence_number=self.sequence, message_id=message_id,
                                         source_addr=self.source)))  # fmt: skip

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header = await reader.readexactly(16)
                body = await reader.readexactly(HEADER.unpack(header)[0] - 16)
                self._on_pdu(decode(header + body))
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    def _on_pdu(self, pdu: Pdu) -> None:
        assert self.writer is not None
        ledger = self.ledger
        match pdu:
            case BindTransceiverResp():
                if pdu.command_status:
                    ledger.bind_refusals += 1
                    self.writer.close()
                else:
                    self.bound.set()
            case SubmitSmResp():
                if (sent := self.in_flight.pop(pdu.sequence_number, None)) is None:
                    return
                message, part = sent
                if pdu.command_status == 0 and pdu.message_id:
                    message.ids[part].append(pdu.message_id)
                    ledger.owner[pdu.message_id] = (message.tag, part)
                else:
                    ledger.refusals[pdu.command_status] += 1
                self.wake.set()
            case DeliverSm():
                found = RECEIPT.search(pdu.short_message)
                if found is not None:
                    message_id = found.group(1).decode()
                    stat, err = found.group(2).decode(), int(found.group(3))
                    ledger.receipts.setdefault(message_id, []).append((stat, err))
                    ledger.early_receipts += message_id not in ledger.owner
                self.writer.write(HEADER.pack(17, 0x80000005, 0, pdu.sequence_number) + b"\0")
            case EnquireLink():
                self.writer.write(HEADER.pack(16, 0x80000015, 0, pdu.sequence_number))
            case QuerySmResp():
                message_id = self.queries.pop(pdu.sequence_number, "")
                ledger.queries[message_id] = (
                    -pdu.command_status if pdu.command_status else pdu.message_state
                )
            case GenericNack():
                ledger.generic_nacks += 1
                self.in_flight.pop(pdu.sequence_number, None)


# --- the parties -----------------------------------------------------------------------------


class Parties:
    """The sandbox and the bridge, each a child process; `stop()` ends whichever runs."""

    def __init__(self, workdir: Path, reassembly_timeout_s: float) -> None:
        self.workdir, self.config = workdir, workdir / "bridge.toml"
        self.sandbox: subprocess.Popen[bytes] | None = None
        self.bridge: subprocess.Popen[bytes] | None = None
        self.endpoint, self.port, self.starts = "", free_port(), 0  # starts: of serve
        self.reassembly_timeout_s = reassembly_timeout_s

    def prepare(self) -> None:
        """The sandbox; the bridge's one config (its state file goes beside it) and a copy of
        bridge/ it runs from, so every restart runs the same code while others edit the tree."""
        shutil.copytree(REPO / "bridge", self.workdir / "code" / "bridge",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        self.sandbox, self.endpoint = start_sandbox("--history", "100000")
        self.config.write_text(
            f'[smpp]\nhost = "127.0.0.1"\nport = {self.port}\n\n'
            f'[isms]\nendpoints = ["{self.endpoint}"]\n\n[metrics]\nport = 0\n\n'
            f"[messages]\nreassembly_timeout_s = {self.reassembly_timeout_s}\n\n"
            f'[[accounts]]\nsystem_id = "{SYSTEM_ID}"\npassword = "{PASSWORD}"\n'
            f'isms_username = "{SANDBOX_USER}"\nisms_password = "{SANDBOX_PASSWORD}"\n',
            encoding="utf-8",
        )

    async def start_bridge(self) -> str:
        """`isms-bridge serve` on the one config; its state_recovered line once it listens."""
        process, log = self._spawn()
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"event=listening" not in (text := log.read_bytes()):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = text.decode(errors="replace")[-2000:]
                raise RuntimeError(f"serve did not start ({log}):\n{tail}")
            await asyncio.sleep(0.02)
        found = re.search(rb"event=state_recovered (.*)", text)
        return found.group(1).decode().strip() if found else "(no state_recovered line)"

    def _spawn(self) -> tuple[subprocess.Popen[bytes], Path]:
        """Start `serve` (this returns at once); the process and its log file."""
        self.starts += 1
        log = self.workdir / f"serve-{self.starts}.log"
        with log.open("wb") as out:
            self.bridge = subprocess.Popen(
                [sys.executable, "-m", "bridge", "serve", "--config", str(self.config)],
                stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir / "code",
            )  # fmt: skip
        return self.bridge, log

    def kill_bridge(self) -> None:
        if self.bridge is not None and self.bridge.poll() is None:
            self.bridge.send_signal(signal.SIGKILL)
            self.bridge.wait(10)

    def stop(self) -> None:
        for process in (self.bridge, self.sandbox):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def sandbox_records(self) -> list[dict[str, object]]:
        base = self.endpoint.rsplit("/", 1)[0]
        with urllib.request.urlopen(f"{base}/messages.json", timeout=30) as reply:
            return list(json.loads(reply.read())["messages"])


# --- the run ---------------------------------------------------------------------------------


async def generate(esmes: list[Esme], ledger: Ledger, args: argparse.Namespace,
                   rng: random.Random, running: Callable[[], bool]) -> None:  # fmt: skip
    """`--rate` new messages a second, round robin over the bound ESMEs (none while the
    bridge is down: the ticks are lost, not queued)."""
    interval = 1 / args.rate
    next_at = time.monotonic()
    turn = 0
    while running():
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        esme = esmes[turn % len(esmes)]
        turn += 1
        if esme.bound.is_set() and len(esme.outbox) < BACKLOG_MAX:
            destination = rng.choices(DESTINATIONS, DESTINATION_WEIGHTS)[0]
            long = rng.random() < args.long_share
            esme.queue(ledger.new_message(esme.source, destination, long))


async def until(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    """Whether `condition()` came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


async def kill_loop(parties: Parties, esmes: list[Esme], ledger: Ledger,
                    args: argparse.Namespace, rng: random.Random) -> list[float]:  # fmt: skip
    """SIGKILL and restart `--kills` times; the seconds each restart took."""
    downtimes: list[float] = []
    for kill in range(1, args.kills + 1):
        note = ""
        if kill % TARGET_EVERY == 2:
            await asyncio.sleep(rng.uniform(0.5, 1.0) * args.seconds_between)
            if await until(lambda: any(e.bound.is_set() for e in esmes), START_TIMEOUT_S):
                esme = rng.choice([e for e in esmes if e.bound.is_set()])
                probe = ledger.new_message(esme.source, REPLY_3S, long=True, probe=True)
                esme.send_now(probe)
                await asyncio.sleep(TARGET_DELAY_S)
                note = f" (targeted: soak {probe.tag:06d})"
        else:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * args.seconds_between)
        in_flight = sum(len(e.in_flight) for e in esmes)
        parties.kill_bridge()
        killed_at = time.monotonic()
        recovered = await parties.start_bridge()
        downtimes.append(time.monotonic() - killed_at)
        print(f"kill {kill:>2}/{args.kills}: {in_flight:>3} submits unanswered, listening again"
              f" after {downtimes[-1]:.1f} s; {recovered}{note}", flush=True)  # fmt: skip
    return downtimes


async def query_all(esmes: list[Esme], ledger: Ledger) -> None:
    """query_sm for every answered id, on the ESME whose source_addr sent it, WINDOW at a time."""
    by_source = {e.source: e for e in esmes}
    for message in ledger.messages.values():
        esme = by_source[message.source]
        for message_id in (i for ids in message.ids for i in ids):
            if not await until(esme.may_query, 10):
                return
            esme.query(message_id)
    await until(lambda: not any(e.queries for e in esmes), 10)


async def soak(parties: Parties, args: argparse.Namespace) -> Ledger:
    rng = random.Random(args.seed)
    ledger = Ledger()
    parties.prepare()
    print(f"first start: {await parties.start_bridge()}", flush=True)
    esmes = [Esme(index, parties.port, ledger) for index in range(1, ESMES + 1)]
    generating = True
    tasks = [asyncio.create_task(e.run()) for e in esmes]
    tasks.append(asyncio.create_task(generate(esmes, ledger, args, rng, lambda: generating)))
    try:
        if not await until(lambda: all(e.bound.is_set() for e in esmes), START_TIMEOUT_S):
            raise RuntimeError("the ESMEs did not bind")
        await asyncio.sleep(2.0)  # load running before the first kill
        started = time.monotonic()
        downtimes = await kill_loop(parties, esmes, ledger, args, rng)
        generating = False
        kill_seconds = time.monotonic() - started
        drained = await until(lambda: not any(e.busy for e in esmes), 30)
        answered_ids = [i for m in ledger.messages.values() for ids in m.ids for i in ids]
        settle_started = time.monotonic()
        settled = await until(lambda: all(i in ledger.receipts for i in answered_ids), args.settle,
                              step=0.2)  # fmt: skip
        settle_seconds = time.monotonic() - settle_started
        await query_all(esmes, ledger)
        print(f"\n{args.kills} kills in {kill_seconds:.0f} s; restarts took"
              f" {min(downtimes, default=0):.1f}-{max(downtimes, default=0):.1f} s; submits"
              f" {'all' if drained else 'NOT all'} answered after the last; receipts"
              f" {'all' if settled else 'not all'} in after {settle_seconds:.1f} s"
              " of settling")  # fmt: skip
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return ledger


# --- the figures -----------------------------------------------------------------------------


class Findings:
    """What the ledger and the sandbox's records say together."""

    def __init__(self, ledger: Ledger, records: list[dict[str, object]], examples: int) -> None:
        self.ledger, self.examples = ledger, examples
        self.received: Counter[int] = Counter()  # tag -> sends the sandbox accepted
        for record in records:
            found = TAG.search(str(record.get("text", "")))
            if found is not None and record.get("trx_id"):
                self.received[int(found.group(1))] += 1
        messages = ledger.messages.values()
        self.answered = {i: ledger.owner[i] for m in messages for ids in m.ids for i in ids}

    def kind(self, message_id: str) -> str:
        tag, part = self.answered[message_id]
        message = self.ledger.messages[tag]
        what = f"long part {part + 1}" if len(message.parts) > 1 else "one part"
        return f"{what} to {message.destination}"

    def described(self, message_id: str) -> str:
        tag, _ = self.answered[message_id]
        message = self.ledger.messages[tag]
        return (f"id {message_id} soak {tag:06d} ({self.kind(message_id)}, parts sent"
                f" {'/'.join(map(str, message.attempts))}x, the sandbox got it"
                f" {self.received[tag]}x, receipts {self.receipts_of(message_id)})")  # fmt: skip

    def counted(self, ids: Sequence[str]) -> str:
        """How many, and of which kind."""
        kinds = Counter(self.kind(i) for i in ids)
        return f"{len(ids)}  {dict(kinds.most_common())}" if ids else "0"

    def show(self, label: str, figure: object, ids: Sequence[str] = ()) -> None:
        print(f"  {label:<64} {figure}")
        for message_id in ids[: self.examples]:
            print(f"      {self.described(message_id)}")

    def report(self, kills: int) -> None:
        ledger, received, answered = self.ledger, self.received, self.answered
        messages = ledger.messages.values()
        no_receipt = [i for i in answered if i not in ledger.receipts]
        expired = [i for i in answered if ("EXPIRED", 250) in ledger.receipts.get(i, [])]
        false_expired = [i for i in expired if received[answered[i][0]]]
        twice_own = [m for m in messages if received[m.tag] > 1 and not m.resent]
        twice_resent = [m for m in messages if received[m.tag] > 1 and m.resent]
        lost = [m for m in messages if all(m.ids) and not received[m.tag]]
        enroute = [i for i in answered if ledger.queries.get(i) == ENROUTE]
        queried = Counter(STATE_NAMES.get(ledger.queries.get(i, 0), "other") for i in answered)
        stats = Counter(f"{s}:{e:03d}" for got in ledger.receipts.values() for s, e in got)
        print(f"\nmessages made {len(messages):,} ({sum(len(m.parts) > 1 for m in messages):,}"
              f" in two parts); submit_sm sent {sum(sum(m.attempts) for m in messages):,};"
              f" the sandbox accepted {sum(received.values()):,} sends of {len(received):,}"
              " of them")  # fmt: skip
        self.show("kills done", kills)
        self.show("submit_sm answered ESME_ROK (message_ids)", f"{len(answered):,}")
        self.show("submit_sm answered otherwise (command_status: count)", dict(ledger.refusals))
        self.show("answered message_ids that never got a receipt", self.counted(no_receipt),
                  no_receipt)  # fmt: skip
        self.show("false EXPIRED receipts (err 250, the sandbox got the message)",
                  self.counted(false_expired), false_expired)  # fmt: skip
        self.show("EXPIRED receipts for messages the sandbox never got",
                  len(expired) - len(false_expired))  # fmt: skip
        self.show("messages answered in full that the sandbox never got", len(lost),
                  [m.ids[-1][0] for m in lost])  # fmt: skip
        self.show("messages sent twice+ by the bridge's own doing (ESME sent once)",
                  f"{len(twice_own)} ({sum(received[m.tag] - 1 for m in twice_own)} extra sends)",
                  [m.ids[-1][0] for m in twice_own if all(m.ids)])  # fmt: skip
        self.show("ESME resends of a submit_sm left unanswered by a kill", ledger.resends)
        self.show("  extra sends at the sandbox they caused (legitimate)",
                  f"{sum(received[m.tag] - 1 for m in twice_resent)} in"
                  f" {len(twice_resent)} messages")  # fmt: skip
        self.show("query_sm still ENROUTE for answered ids", self.counted(enroute), enroute)
        self.show("query_sm answers by message_state (other: refused)", dict(queried))
        self.show("receipts by stat:err", dict(stats.most_common()))
        twice = [i for i in answered if len(ledger.receipts.get(i, [])) > 1]
        self.show("message_ids with more than one receipt", self.counted(twice), twice)
        unknown = [i for i in ledger.receipts if i not in ledger.owner]
        foreign = sum(len(ledger.receipts[i]) for i in unknown)
        self.show("receipts for ids no ESME was answered", f"{foreign}  {unknown[: self.examples]}")
        self.show("receipts read before their submit_sm_resp (another bind)",
                  ledger.early_receipts - foreign)  # fmt: skip
        self.show("binds refused / generic_nack", f"{ledger.bind_refusals}/{ledger.generic_nacks}")
        self.probes()

    def receipts_of(self, message_id: str) -> str:
        got = self.ledger.receipts.get(message_id, [])
        return ",".join(f"{s}:{e:03d}" for s, e in got) or "none"

    def probes(self) -> None:
        print("\ntargeted kills (a long message to 60000009030, killed ~1 s after its last part):")
        for message in (m for m in self.ledger.messages.values() if m.probe):
            parts = [
                " ".join(f"{i} receipts {self.receipts_of(i)}" for i in ids) or "not answered"
                for ids in message.ids
            ]
            print(f"  soak {message.tag:06d}: parts sent {'/'.join(map(str, message.attempts))}x,"
                  f" the sandbox got it {self.received[message.tag]}x; part 1: {parts[0]};"
                  f" part 2: {parts[1]}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seconds-between", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=40.0, help="new messages a second")
    parser.add_argument("--long-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reassembly-timeout", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for receipts")
    parser.add_argument("--examples", type=int, default=5, help="ids shown per figure")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, state)")
    args = parser.parse_args()
    for signum in (signal.SIGINT, signal.SIGTERM):  # both stop it as Ctrl-C does (even when
        signal.signal(signum, signal.default_int_handler)  # started with SIGINT ignored)
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    parties = Parties(workdir, args.reassembly_timeout)
    try:
        ledger = asyncio.run(soak(parties, args))
        Findings(ledger, parties.sandbox_records(), args.examples).report(args.kills)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        parties.stop()
        if args.keep:
            print(f"\nlogs and state file kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
