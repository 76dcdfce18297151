"""`isms-bridge serve` on a real redis-server that loses data the ways Redis does.

A Redis whose maxmemory-policy may evict keys is refused at start (`serve` and
`check-config` exit 2 with one line) unless `[state] redis_allow_eviction = true`. Receipts
whose keys were evicted (DEL, as eviction does it) are counted and logged, and the rest of
the account's queue is delivered. A Redis restarted empty under a running bridge is found:
one ERROR line, a counter, /readyz failing `state_intact`; traffic goes on, and a late
deliver_sm_resp for a receipt delivered before the restart removes none made after it.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import smpplib.client
from prometheus_client.parser import text_string_to_metric_families
from real_parts import free_port
from redis_server import RedisServer
from serve_process import ServeProcess
from smpplib_esme import read_receipts, submit, submit_many

from bridge.pdu import BindReceiver, DeliverSm, DeliverSmResp, Pdu, Tag, decode

from .loopback import ACCOUNT, SMPP, RawEsme, Toml, config_text
from .messages_rig import SandboxThread

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TO = "60123456789"
PREFIX = "isms-bridge"  # the default key_prefix, without its colon

Write = Callable[..., Path]


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer.started() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: SandboxThread) -> Write:
    """bridge.toml against the sandbox, on the Redis at `url`."""

    def write(url: str, *, state: Toml | None = None, smpp: Toml | None = None,
              metrics_port: int = 0) -> Path:  # fmt: skip
        tables: list[tuple[str, Toml]] = [
            ("[smpp]", {**SMPP, **(smpp or {})}),
            ("[isms]", {"endpoints": [sandbox.url], "timeout_s": 5}),
            ("[metrics]", {"port": metrics_port}),
            ("[state]", {"backend": "redis", "redis_url": url, **(state or {})}),
            ("[[accounts]]", ACCOUNT),
        ]
        path = tmp_path / "bridge.toml"
        path.write_text(config_text(tables), encoding="utf-8")
        return path

    return write


def esme(port: int, bind: str) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    getattr(client, f"bind_{bind}")(system_id="esme1", password="secret1")
    return client


def with_receipts(count: int, text: bytes) -> list[dict[str, object]]:
    return [
        {"destination_addr": TO, "short_message": text + b" %d" % i, "registered_delivery": 1}
        for i in range(count)
    ]


def metric(port: int, name: str, labels: dict[str, str] | None = None) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode("utf-8")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return float(sample.value)
    raise AssertionError(f"{name}{labels or ''} is not on /metrics")


def readyz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as reply:
            return int(reply.status), reply.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode("utf-8")


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def receipted(body: bytes | None) -> str:
    """The message_id a queued receipt (its encoded deliver_sm) is for."""
    assert body is not None
    pdu = decode(body)
    assert isinstance(pdu, DeliverSm)
    message_id = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
    assert isinstance(message_id, str)
    return message_id


def deliveries(receiver: RawEsme, count: int) -> list[DeliverSm]:
    """The next `count` deliver_sm, unanswered (anything else the bridge sends is skipped)."""
    found: list[DeliverSm] = []
    while len(found) < count:
        pdu: Pdu = receiver.read(timeout=15)
        if isinstance(pdu, DeliverSm):
            found.append(pdu)
    return found


# --- a Redis that may evict -----------------------------------------------------------------


def run_bridge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args], capture_output=True, text=True, cwd=REPO,
        timeout=60,
    )  # fmt: skip


def test_serve_and_check_config_refuse_a_redis_that_may_evict_keys_in_one_line(
    config: Write,
) -> None:
    with RedisServer.started(options=("--maxmemory-policy", "allkeys-lru")) as server:
        path = config(server.url)
        for command in (["serve", "--config", str(path)], ["check-config", str(path)]):
            done = run_bridge(*command)
            assert done.returncode == 2, (command, done.stdout, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
            assert server.url.removesuffix("/0") in lines[0]
            assert "maxmemory-policy is allkeys-lru" in lines[0]
            assert "redis_allow_eviction = true" in lines[0]


def test_with_redis_allow_eviction_serve_starts_on_it_and_warns_once(
    config: Write, serve: Callable[[Path], ServeProcess]
) -> None:
    with RedisServer.started(options=("--maxmemory-policy", "allkeys-lru")) as server:
        path = config(server.url, state={"redis_allow_eviction": True})
        assert run_bridge("check-config", str(path)).returncode == 0
        bridge = serve(path)
        answer = submit(esme(bridge.port, "transmitter"), destination_addr=TO, short_message=b"ok")
        assert answer.status == 0
        assert bridge.log().count("event=state_eviction_allowed backend=redis") == 1
        assert "policy=allkeys-lru" in bridge.log()
        bridge.stop()


# --- keys evicted ---------------------------------------------------------------------------


def test_receipts_whose_keys_were_evicted_are_counted_and_logged_and_the_rest_delivered(
    config: Write, serve: Callable[[Path], ServeProcess], redis_server: RedisServer
) -> None:
    metrics = free_port()
    bridge = serve(config(redis_server.url, metrics_port=metrics))
    sender = esme(bridge.port, "transmitter")
    answers = submit_many(sender, with_receipts(20, b"held"))
    assert all(answer.status == 0 for answer in answers)
    raw = redis.Redis.from_url(redis_server.url)
    keys = sorted(raw.scan_iter(match=f"{PREFIX}:q:esme1:e:*", count=1000))
    assert len(keys) == 20  # one key per receipt: an eviction takes one, not the queue
    raw.delete(*keys[:12])  # what maxmemory + allkeys-lru did to the oldest twelve
    kept = sorted(receipted(raw.hget(key, "body")) for key in keys[12:])
    raw.close()
    receiver = esme(bridge.port, "receiver")
    receipts = read_receipts(receiver, 8)
    assert sorted(r.receipted_message_id.decode() for r in receipts) == kept
    assert set(kept) <= {a.message_id for a in answers}
    wait_until(
        "the loss is counted",
        lambda: metric(metrics, "isms_bridge_state_lost_total", {"kind": "entry"}) == 12,
    )
    assert "event=state_entries_lost backend=redis kind=entry count=" in bridge.log()
    later = submit(sender, destination_addr=TO, short_message=b"after", registered_delivery=1)
    (receipt,) = read_receipts(receiver, 9)[8:]
    assert receipt.receipted_message_id.decode() == later.message_id  # the queue still flows


# --- Redis restarted empty ------------------------------------------------------------------


def test_redis_restarted_empty_is_found_counted_fails_readyz_and_traffic_goes_on(
    config: Write, serve: Callable[[Path], ServeProcess], redis_server: RedisServer
) -> None:
    metrics = free_port()
    # A long response timer: the deliver_sm_resp below still counts when it comes late.
    bridge = serve(config(redis_server.url, smpp={"response_timeout_s": 60}, metrics_port=metrics))
    receiver = RawEsme("127.0.0.1", bridge.port)
    receiver.send(BindReceiver(system_id="esme1", password="secret1"))
    assert receiver.read().command_status == 0
    sender = esme(bridge.port, "transmitter")
    submit_many(sender, with_receipts(5, b"before"))
    old = deliveries(receiver, 5)  # delivered, and not yet answered
    assert readyz(metrics)[0] == 200

    redis_server.stop()
    redis_server.start()  # empty: the test server keeps nothing (--save "", no AOF)
    bridge.wait_for(r"event=state_lost backend=redis .*reason=marker_missing")
    assert bridge.log().count("event=state_lost ") == 1
    status, body = readyz(metrics)
    assert status == 503 and "state_intact: FAIL" in body
    assert metric(metrics, "isms_bridge_state_epoch_changes_total") == 1

    answers = submit_many(sender, with_receipts(5, b"after"))
    assert [answer.status for answer in answers] == [0] * 5  # ordinary traffic goes on
    new = deliveries(receiver, 5)
    assert all(b"after" in pdu.short_message for pdu in new)
    # The late answers to the deliveries made before the restart: their entry ids are not
    # the new ones', so their acknowledgements remove nothing the new receipts need.
    receiver.send(*(DeliverSmResp(sequence_number=pdu.sequence_number) for pdu in old))
    wait_until(
        "the five new receipts are still held, as sent and unconfirmed",
        lambda: metric(metrics, "isms_bridge_state_receipts", {"state": "sent"}) == 5,
    )
    receiver.send(*(DeliverSmResp(sequence_number=pdu.sequence_number) for pdu in new))
    wait_until(
        "the new receipts are confirmed",
        lambda: metric(metrics, "isms_bridge_state_receipts", {"state": "sent"}) == 0,
    )
    receiver.close()
