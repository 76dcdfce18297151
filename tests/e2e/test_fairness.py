"""A flooding ESME costs only its own answers: a second client's submits stay prompt.

The bridge runs in this process (the real Bridge, scripted handler, uvloop), the flooder in
its own (tests/e2e/flooder.py), and a normal smpplib client submits one message at a time
beside it. These machines are shared and noisy: the bound is on the worst case and loose
(2 s), where the unfair bridge took 3-10 s per stall.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import smpplib.client

from bridge.pdu import BindTransmitter, SubmitSm, encode

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

FLOODER = Path(__file__).with_name("flooder.py")
FLOOD_S = 6.0
WORST_LATENCY_S = 2.0
ACCOUNTS = [
    {"system_id": "flood", "password": "flood1"},
    {"system_id": "esme2", "password": "secret2"},
]


def start_flooder(port: int, mode: str, text: bytes) -> subprocess.Popen[str]:
    bind = encode(BindTransmitter(system_id="flood", password="flood1", sequence_number=1))
    submit = encode(
        SubmitSm(
            sequence_number=2,
            source_addr="MyBrand",
            destination_addr="60123456789",
            short_message=text,
        )
    )
    arguments = ["127.0.0.1", str(port), bind.hex(), submit.hex(), mode, str(FLOOD_S)]
    flooder = subprocess.Popen(
        [sys.executable, str(FLOODER), *arguments],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert flooder.stdout is not None
    assert flooder.stdout.readline().strip() == "bound"
    return flooder


def flooder_counts(flooder: subprocess.Popen[str]) -> dict[str, int]:
    out, _err = flooder.communicate(timeout=FLOOD_S + 30)
    counts: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return counts


def normal_client_latencies(client: smpplib.client.Client, count: int = 25) -> list[float]:
    """One submit at a time, each waited for, a tenth of a second apart."""
    client.bind_transmitter(system_id="esme2", password="secret2")
    latencies = []
    for _ in range(count):
        started = time.monotonic()
        client.send_message(
            source_addr="MyBrand", destination_addr="60123456789", short_message=b"hello"
        )
        client.read_once()  # its submit_sm_resp: nothing else comes to a transmitter
        latencies.append(time.monotonic() - started)
        time.sleep(0.1)
    return latencies


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        # Answered at once, never read: the answers back up until the bridge stops reading.
        ("never_reads", b"hello"),
        # Each held 5 s by the handler, so past the window every submit is ESME_RTHROTTLED.
        ("ignores_window", b"sleep:5 hello"),
    ],
)
def test_a_flooding_esme_leaves_a_second_clients_worst_latency_under_two_seconds(
    write_config: Callable[..., Path],
    run_server: Callable[..., object],
    smpplib_esme: Callable[..., smpplib.client.Client],
    mode: str,
    text: bytes,
) -> None:
    server = run_server(write_config(accounts=ACCOUNTS))
    flooder = start_flooder(server.port, mode, text)  # type: ignore[attr-defined]
    try:
        latencies = normal_client_latencies(smpplib_esme(server))
    finally:
        counts = flooder_counts(flooder)
    assert counts["sent"] > 1 << 20, counts  # it did flood: over a MiB of submit_sm written
    if mode == "ignores_window":
        assert counts["throttled"] > 1000, counts
    assert max(latencies) < WORST_LATENCY_S, sorted(latencies)[-5:]
    worst_lag = server.run(lambda: server.bridge.server.worst_loop_lag_s)  # type: ignore[attr-defined]
    assert worst_lag is not None and worst_lag < WORST_LATENCY_S
