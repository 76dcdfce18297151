"""Benchmark: what the account policy costs per message, everything on against everything off.

Run: .venv/bin/python bench/policy.py [--messages 5000] [--rounds 5] [--backend sqlite]

The message pipeline in this process (`MessagePipeline.handle`, as the server calls it),
with an iSMS that accepts at once, on the state backend the bridge defaults to (SQLite, in
a temporary file; `--backend memory` to leave the store's own cost out), `--in-flight`
submit_sm at a time so that commits are grouped as under real traffic. Two accounts, each
round submitting the same `--messages` distinct messages (no resend: every message pays the
full price of every check):
- `off`: no policy key (the default): one attribute tested per message;
- `on`: every policy at its defaults: allow_prefixes ["60"], deny_prefixes ["6015"], an
  opt-out list of 10,000 numbers, rm0 = "insert", daily and monthly caps in messages and in
  credits (high enough never to refuse: 4 reservations per message, given back for nothing),
  duplicates = "suppress" (a fingerprint claimed and settled per message).
and, to show where the cost lies, one account per part: `checks` (the number lists and RM0:
no store access), `caps` and `duplicates` alone. Rounds rotate which account goes first;
per round, messages per CPU second (process time: the pipeline and the store's writer
thread); per account, the median over the rounds of its throughput against `off` measured
in the same round is the figure (target: everything on costs under 5 % of throughput).
The pipeline alone is a small part of a message's cost through the bridge (136 µs of CPU
per message at the defaults, docs/performance.md), so the last lines also give each
account's added CPU per message in µs and that against the whole bridge's 136 µs (an
estimate; `--whole` measures it). Figures only.

`--whole` measures instead what the policy costs the whole bridge at its defaults, in one
run: `isms-bridge serve` (SQLite, info) under valgrind's callgrind with the account's policy
off and with everything on (as `on` above, in its config file), 4 sessions x window 50 of
submit_sm to the instant sandbox, every message's text different; instructions per
message, (I(n2) - I(n1)) / (n2 - n1), the same on a busy machine as on an idle one. Where
the bridge's one thread is the bottleneck (bench/e2e.py, scenario 1), their ratio is the
throughput ratio. About 4 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bridge.pdu import DeliverSm, Pdu, SubmitSm  # noqa: E402
from bridge.pipeline import (  # noqa: E402
    AccountPolicy,
    AccountRoute,
    Caps,
    DuplicateRules,
    MessagePipeline,
    NumberLists,
)
from bridge.server import Peer, SessionContext  # noqa: E402
from bridge.smpp import BindType  # noqa: E402
from bridge.state import MemoryState, SqliteState, StateStore  # noqa: E402
from bridge.upstream import IsmsCredentials, IsmsMessage, Outcome, SendResult  # noqa: E402

CREDENTIALS = IsmsCredentials(username="isms", password="isms123")
BIG = 1_000_000_000
EVERYTHING_ON = AccountPolicy(
    lists=NumberLists(
        allow=("60",),
        deny=("6015",),
        opted_out=frozenset(f"6019{n:07d}" for n in range(10_000)),
    ),
    rm0="insert",
    caps=Caps(daily_messages=BIG, monthly_messages=BIG, daily_credits=BIG, monthly_credits=BIG),
    duplicates=DuplicateRules(mode="suppress", window_s=600.0),
)
POLICIES: dict[str, AccountPolicy | None] = {
    "off": None,
    "checks": AccountPolicy(lists=EVERYTHING_ON.lists, rm0="insert"),
    "caps": AccountPolicy(caps=EVERYTHING_ON.caps),
    "duplicates": AccountPolicy(duplicates=EVERYTHING_ON.duplicates),
    "on": EVERYTHING_ON,
}
ROUTES = tuple(
    AccountRoute(system_id=name, credentials=CREDENTIALS, policy=policy)
    for name, policy in POLICIES.items()
)
# CPU per message through the whole bridge at its defaults (docs/performance.md).
BRIDGE_CPU_US = 136.0


class InstantIsms:
    """Accepts every request at once, with a new trx_id."""

    def __init__(self) -> None:
        self.trx = 10_000_000

    async def send(self, message: IsmsMessage) -> SendResult:
        self.trx += 1
        return SendResult(
            outcome=Outcome.ACCEPTED,
            code=2000,
            trx_id=str(self.trx),
            mirror="m1",
            elapsed_s=0.0,
            attempts=1,
        )


class NoReceivers:
    def delivery_window(self, system_id: str) -> int:
        return 0

    async def deliver(self, system_id: str, pdu: DeliverSm) -> Pdu:
        raise LookupError(system_id)


def context(system_id: str) -> SessionContext:
    return SessionContext(
        session_id="s1",
        peer=Peer(host="127.0.0.1", port=40000),
        system_id=system_id,
        bind_type=BindType.TRANSMITTER,
    )


def messages(count: int, round_number: int) -> list[SubmitSm]:
    return [
        SubmitSm(
            sequence_number=n + 1,
            source_addr="MyBrand",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=f"6012{n % 10_000_000:07d}",
            short_message=f"Your code is {round_number:03d}-{n:07d}".encode(),
        )
        for n in range(count)
    ]


async def run_account(
    pipeline: MessagePipeline, system_id: str, pdus: list[SubmitSm], in_flight: int
) -> float:
    """Messages per CPU second for one account's submits."""
    ctx = context(system_id)
    queue = iter(pdus)
    answered = 0

    async def worker() -> None:
        nonlocal answered
        for pdu in queue:
            response = await pipeline.handle(ctx, pdu)
            assert response.command_status == 0, response
            answered += 1

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    spent = time.process_time() - started
    assert answered == len(pdus)
    return answered / spent


async def open_store(backend: str, folder: Path) -> StateStore:
    if backend == "memory":
        return MemoryState()
    return await SqliteState.open(folder / "state.sqlite3")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as folder:
        store = await open_store(args.backend, Path(folder))
        pipeline = MessagePipeline(
            sender=InstantIsms(), registry=NoReceivers(), routes=ROUTES, state=store
        )
        names = list(POLICIES)
        # Warm up every path (imports, caches, the SQLite statements).
        for index, name in enumerate(names):
            await run_account(pipeline, name, messages(500, 900 + index), args.in_flight)
        print(
            f"account policy, {args.messages} messages per account per round, "
            f"{args.in_flight} in flight, backend {args.backend}; messages per CPU second"
        )
        print(f"{'round':>5}  " + "  ".join(f"{name:>10}" for name in names))
        rates: dict[str, list[float]] = {name: [] for name in names}
        ratios: dict[str, list[float]] = {name: [] for name in names}
        for number in range(args.rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            rate: dict[str, float] = {}
            for name in order:
                pdus = messages(args.messages, number * len(names) + names.index(name))
                rate[name] = await run_account(pipeline, name, pdus, args.in_flight)
            for name in names:
                rates[name].append(rate[name])
                ratios[name].append(rate[name] / rate["off"])
            print(f"{number + 1:>5}  " + "  ".join(f"{rate[n]:>10,.0f}" for n in names))
        off_us = 1e6 / statistics.median(rates["off"])
        print(f"the pipeline alone, every policy off: {off_us:.0f} µs of CPU per message")
        for name in names[1:]:
            cost = (1 - statistics.median(ratios[name])) * 100
            added = 1e6 / statistics.median(rates[name]) - off_us
            print(
                f"{name:>10}: {cost:5.1f} % of the pipeline's throughput, +{added:.0f} µs per "
                f"message = {added / (BRIDGE_CPU_US + added) * 100:.1f} % of the whole "
                f"bridge's throughput at {BRIDGE_CPU_US:.0f} µs per message"
            )
        cost = (1 - statistics.median(ratios["on"])) * 100
        verdict = "within" if cost < 5.0 else "OVER"
        print(
            f"everything on costs {cost:.1f} % of the pipeline's throughput against everything "
            f"off ({verdict} the 5 % target)"
        )
        await pipeline.aclose()
        await store.aclose()


# The account's table with every policy on, as EVERYTHING_ON (OPT_OUT: the opt-out file).
WHOLE_ON = """allow_prefixes = ["60"]
deny_prefixes = ["6015"]
opt_out_file = "{opt_out}"
rm0 = "insert"
daily_messages = {big}
monthly_messages = {big}
daily_credits = {big}
monthly_credits = {big}
duplicates = "suppress"
duplicates_window_s = 600
"""


def whole(args: argparse.Namespace) -> None:
    """The `--whole` measurement (module docstring)."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    sys.path.insert(0, str(REPO / "bench"))
    import e2e

    if shutil.which("valgrind") is None:
        sys.exit("--whole needs valgrind (Debian: apt-get install valgrind)")
    small, large = 500, 500 + max(1000, int(2000 * args.scale))
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp:
        workdir = Path(tmp)
        opt_out = workdir / "opt-out.txt"
        opt_out.write_text("".join(f"6019{n:07d}\n" for n in range(10_000)), encoding="utf-8")
        accounts = {"off": "", "on": WHOLE_ON.format(opt_out=opt_out, big=BIG)}
        sandbox, url = e2e.start_sandbox("--latency-ms", "0")
        try:
            with ThreadPoolExecutor(2) as pool:
                futures = {
                    (name, n): pool.submit(
                        e2e.bridge_instructions,
                        workdir,
                        url,
                        "info",
                        "sqlite",
                        n,
                        account=account,
                        numbered=True,
                        name=f"-{name}",
                    )
                    for name, account in accounts.items()
                    for n in (small, large)
                }
                per = {
                    name: (futures[name, large].result() - futures[name, small].result())
                    / (large - small)
                    for name in accounts
                }
        finally:
            sandbox.terminate()
            sandbox.wait(10)
    print(
        f"the whole bridge at its defaults (SQLite, info), instructions per message under "
        f"callgrind (counts of {small} and {large}, 4 sessions x window 50, every text "
        "different):"
    )
    for name, count in per.items():
        print(f"  policy {name:<4}{count:>12,.0f}")
    cost = (1 - per["off"] / per["on"]) * 100
    verdict = "within" if cost < 5.0 else "OVER"
    print(
        f"everything on costs {per['on'] - per['off']:,.0f} instructions per message: "
        f"{cost:.1f} % of the whole bridge's throughput ({verdict} the 5 % target)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--backend", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--whole", action="store_true", help="the whole bridge, under callgrind")
    parser.add_argument("--scale", type=float, default=1.0, help="--whole: multiply counts")
    parsed = parser.parse_args()
    if parsed.whole:
        whole(parsed)
    else:
        asyncio.run(main(parsed))
