"""Benchmark: HTTP clients side by side, posting the same form to the same server.

Run: .venv/bin/python bench/transports.py [--rounds 3] [--scale 1.0] [--servers sandbox,plain]
     [--candidates aiohttp,http11,aiosonic,pyreqwest] [--with-httpx]

Starts two servers, each in its own process: the sandbox (`isms-bridge sandbox`, aiohttp.web
judging each form like iSMS) and a plain aiohttp.web app answering one fixed line (less server
work per request, so the client's cost shows more). Then, for each server and 1, 10 and 100
requests in flight, runs each candidate in interleaved rounds in this one process, on uvloop:
- the bridge's HttpTransport adapters (`aiohttp`, `http11`, and `httpx` with --with-httpx),
  called as IsmsClient calls them: `post(url, body, headers, timeouts)`, reply read whole;
- other maintained asynchronous clients found promising, bare: aiosonic (pure asyncio) and
  pyreqwest (Rust's reqwest and hyper under a Tokio runtime), when installed (they are not
  dependencies of the bridge: `pip install aiosonic pyreqwest`).
Prints requests/s and this process's CPU per request (every thread: pyreqwest's runtime
included), the server's CPU per request and its busy share of the wall time, best of the
rounds. Then, for each candidate, whether its failures tell a request that was never written
from one that may have been (what decides whether the next iSMS mirror may be tried).
Figures only; nothing here asserts timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parties import (  # noqa: E402 (bench/ beside this script)
    SANDBOX_PASSWORD,
    SANDBOX_USER,
    cpu_s,
    free_port,
    start_sandbox,
)

from bridge.upstream import Timeouts  # noqa: E402
from bridge.upstream.aiohttp_transport import AiohttpTransport  # noqa: E402
from bridge.upstream.http11_transport import Http11Transport  # noqa: E402
from bridge.upstream.httpx_transport import HttpxTransport  # noqa: E402

FORM = urlencode(
    {
        "un": SANDBOX_USER,
        "pwd": SANDBOX_PASSWORD,
        "dstno": "60123456789",
        "msg": "Your one-time code is 482913. It expires in 5 minutes.",
        "type": "1",
        "agreedterm": "YES",
    }
).encode()
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
TIMEOUTS = Timeouts(connect_s=5, total_s=10)
# (concurrency, requests per round at scale 1)
LEVELS = [(1, 1_500), (10, 4_000), (100, 5_000)]
# What each candidate's failures say about the request having been written, from its code.
WRITTEN = {
    "aiohttp": "at the connection: connector errors are before; anything after a connection "
    "is had counts as written (a reused connection the server closed included)",
    "http11": "exactly at the write: before transport.write NotSent (a pooled connection "
    "found closed is replaced), from it on OutcomeUnknown",
    "httpx": "by class: ConnectError/ConnectTimeout/PoolTimeout before, the rest after",
    "aiosonic": "no: connect errors are bare OSErrors, and a failed write and a dropped read "
    "are both ConnectionDisconnected; idempotent requests are resent",
    "pyreqwest": "partly: ConnectError/PoolTimeoutError before, Read/WriteError after, but "
    "the total timeout (RequestTimeoutError) does not say the phase",
}

Send = Callable[[], Awaitable[bool]]


@dataclass
class Run:
    requests: int
    wall_s: float
    cpu_s: float
    server_cpu_s: float


class Candidate:
    name = ""

    async def send(self) -> bool:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class Adapter(Candidate):
    def __init__(self, name: str, url: str, pool: int) -> None:
        self.name = name
        kinds = {"aiohttp": AiohttpTransport, "http11": Http11Transport, "httpx": HttpxTransport}
        self._transport = kinds[name](pool_size=pool, keepalive_s=4)
        self._url = url

    async def send(self) -> bool:
        reply = await self._transport.post(self._url, FORM, HEADERS, TIMEOUTS)
        return reply.body.startswith(b"2000")

    async def aclose(self) -> None:
        await self._transport.aclose()


class Aiosonic(Candidate):
    name = "aiosonic"

    def __init__(self, url: str, pool: int) -> None:
        import aiosonic
        from aiosonic.pools import PoolConfig

        connector = aiosonic.TCPConnector(pool_configs={":default": PoolConfig(size=pool)})
        self._client = aiosonic.HTTPClient(connector=connector)
        self._url = url

    async def send(self) -> bool:
        response = await self._client.post(self._url, data=FORM, headers=HEADERS)
        return bool((await response.content()).startswith(b"2000"))

    async def aclose(self) -> None:
        await self._client.aclose()


class Pyreqwest(Candidate):
    name = "pyreqwest"

    def __init__(self, url: str, pool: int) -> None:
        from pyreqwest.client import ClientBuilder

        self._client = ClientBuilder().max_connections(pool).build()
        self._url = url

    async def send(self) -> bool:
        request = self._client.post(self._url).headers(HEADERS).body_bytes(FORM).build()
        response = await request.send()
        return bytes(await response.bytes()).startswith(b"2000")

    async def aclose(self) -> None:
        await self._client.close()


def candidate(name: str, url: str, pool: int) -> Candidate:
    if name == "aiosonic":
        return Aiosonic(url, pool)
    if name == "pyreqwest":
        return Pyreqwest(url, pool)
    return Adapter(name, url, pool)


def installed(name: str) -> bool:
    if name not in ("aiosonic", "pyreqwest"):
        return True
    try:
        __import__(name)
    except ImportError:
        print(f"({name} is not installed: skipped)")
        return False
    return True


async def drive(send: Send, requests: int, concurrency: int, server_pid: int) -> Run:
    remaining = requests
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            if not await send():
                failures += 1

    server_before, cpu_before = cpu_s(server_pid), time.process_time()
    wall_before = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - wall_before
    run = Run(requests, wall, time.process_time() - cpu_before, cpu_s(server_pid) - server_before)
    if failures:
        raise RuntimeError(f"{failures} of {requests} requests failed")
    return run


def start_plain() -> tuple[subprocess.Popen[bytes], str]:
    """A bare aiohttp.web app on a free port answering every POST with one success line."""
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve-plain", str(port)])
    return process, f"http://127.0.0.1:{port}/isms_send_all_id.php"


def serve_plain(port: int) -> None:
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="2000 = SUCCESS:1690100001", content_type="text/html")

    app = web.Application()
    app.router.add_post("/isms_send_all_id.php", answer)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def wait_until_up(url: str) -> None:
    import aiohttp

    for _ in range(200):
        try:
            async with aiohttp.ClientSession() as session, session.post(url, data=FORM):
                return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"no server at {url}")


async def bench(args: argparse.Namespace) -> None:
    import aiohttp

    names = [n for n in args.candidates.split(",") if installed(n)]
    if args.with_httpx:
        names.append("httpx")
    servers = {}
    for server in args.servers.split(","):
        servers[server] = start_sandbox() if server == "sandbox" else start_plain()
    print(f"python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
          f"loop {type(asyncio.get_running_loop()).__module__}, {os.cpu_count()} CPUs, "
          f"best of {args.rounds} interleaved rounds")  # fmt: skip
    try:
        for server, (process, url) in servers.items():
            await wait_until_up(url)
            for concurrency, count in LEVELS:
                requests = max(4, round(count * args.scale / concurrency)) * concurrency
                runs: dict[str, list[Run]] = {}
                for name in names:
                    runs[name] = []
                for _ in range(args.rounds):
                    for name in names:
                        client = candidate(name, url, max(100, concurrency))
                        await drive(client.send, concurrency * 2, concurrency, process.pid)
                        n = requests if name != "httpx" else max(concurrency, requests // 4)
                        runs[name].append(await drive(client.send, n, concurrency, process.pid))
                        await client.aclose()
                report(f"{server}, {concurrency} in flight", runs)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    print("\nwhether a failure tells 'nothing written' from 'written':")
    for name in names:
        print(f"  {name:<10} {WRITTEN[name]}")


def report(label: str, runs: dict[str, list[Run]]) -> None:
    print(f"\n{label}")
    print(f"  {'client':<12}{'req/s':>8}{'client µs/req':>15}{'server µs/req':>15}"
          f"{'server busy':>13}{'vs aiohttp':>12}")  # fmt: skip
    best = {name: max(rounds, key=lambda r: r.requests / r.wall_s) for name, rounds in runs.items()}
    base = best["aiohttp"].requests / best["aiohttp"].wall_s if "aiohttp" in best else 0.0
    for name, rounds in runs.items():
        rps = best[name].requests / best[name].wall_s
        client_us = min(r.cpu_s / r.requests * 1e6 for r in rounds)
        server_us = min(r.server_cpu_s / r.requests * 1e6 for r in rounds)
        busy = best[name].server_cpu_s / best[name].wall_s * 100
        ratio = f"{rps / base:>11.2f}x" if base else ""
        print(f"  {name:<12}{rps:>8.0f}{client_us:>15.0f}{server_us:>15.0f}{busy:>12.0f}%{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply request counts")
    parser.add_argument("--servers", default="sandbox,plain")
    parser.add_argument("--candidates", default="aiohttp,http11,aiosonic,pyreqwest")
    parser.add_argument("--with-httpx", action="store_true", help="add the httpx adapter (slow)")
    parser.add_argument("--serve-plain", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_plain:
        serve_plain(args.serve_plain)
        return
    try:
        import uvloop
    except ImportError:
        asyncio.run(bench(args))
    else:
        uvloop.run(bench(args))


if __name__ == "__main__":
    main()
