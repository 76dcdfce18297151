"""How receipts flow to a receiver, on `isms-bridge serve` as a real process against the sandbox.

- The wire order: a deliver_sm carrying message_id X reaches the ESME only after the
  submit_sm_resp carrying X, on every state backend (memory, SQLite, Redis), for a
  transceiver that pipelines its submits.
- Receipts flow as a sliding window per receiver session: a receipt left unanswered costs
  only its own slot, and a receiver that answers nothing is still sent every receipt owed
  (as many as its window holds) rather than one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer
from serve_process import ServeProcess

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    DeliverSmResp,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    Tag,
)

from .loopback import ACCOUNT, SMPP, RawEsme, Toml, config_text
from .messages_rig import SandboxThread

pytestmark = pytest.mark.e2e

TO = "60123456789"


@pytest.fixture
def bridge(tmp_path: Path, sandbox: SandboxThread) -> Iterator[Callable[[Toml], ServeProcess]]:
    started: list[ServeProcess] = []

    def start(state: Toml) -> ServeProcess:
        tables: list[tuple[str, Toml]] = [
            ("[smpp]", SMPP),
            ("[isms]", {"endpoints": [sandbox.url], "timeout_s": 5}),
            ("[state]", state),
            ("[[accounts]]", ACCOUNT),
        ]
        path = tmp_path / "bridge.toml"
        path.write_text(config_text(tables), encoding="utf-8")
        process = ServeProcess(path, tmp_path / "serve.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Toml]:
    backend = request.param
    if backend == "redis":
        with RedisServer.started() as server:
            yield {"backend": "redis", "redis_url": server.url}
    elif backend == "sqlite":
        yield {"backend": "sqlite", "path": str(tmp_path / "state.db")}
    else:
        yield {"backend": "memory"}


def bound(port: int, bind: type[BindTransceiver | BindReceiver | BindTransmitter]) -> RawEsme:
    esme = RawEsme("127.0.0.1", port)
    esme.send(bind(system_id="esme1", password="secret1"))
    assert esme.read().command_status == 0
    return esme


def submits(count: int) -> list[Pdu]:
    return [
        SubmitSm(destination_addr=TO, short_message=b"order %d" % n, registered_delivery=1)
        for n in range(count)
    ]


def receipted_id(pdu: DeliverSm) -> str:
    value = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
    assert isinstance(value, str), pdu
    return value


def test_no_receipt_reaches_a_pipelining_transceiver_before_the_response_with_its_id(
    bridge: Callable[[Toml], ServeProcess], state: Toml
) -> None:
    esme = bound(bridge(state).port, BindTransceiver)
    esme.send(*submits(30))
    answered: set[str] = set()
    early: list[str] = []
    receipts = 0
    while len(answered) < 30 or receipts < 30:
        pdu = esme.read()
        if isinstance(pdu, SubmitSmResp):
            assert pdu.command_status == 0, pdu
            answered.add(pdu.message_id or "")
        elif isinstance(pdu, DeliverSm):
            receipts += 1
            if receipted_id(pdu) not in answered:
                early.append(receipted_id(pdu))
            esme.send(DeliverSmResp(sequence_number=pdu.sequence_number))
    assert early == [], f"{len(early)} of 30 receipts came before their submit_sm_resp"


def test_a_receipt_left_unanswered_holds_back_no_later_receipt(
    bridge: Callable[[Toml], ServeProcess],
) -> None:
    # The response timer is 2 s here (loopback.SMPP): the 20 later receipts must not wait
    # for it, nor for the retry of the unanswered one.
    port = bridge({}).port
    receiver = bound(port, BindReceiver)
    sender = bound(port, BindTransmitter)
    sender.send(*submits(1))
    first = receiver.read()
    assert isinstance(first, DeliverSm)  # left unanswered
    sender.send(*submits(20))
    started = time.monotonic()
    later: set[str] = set()
    while len(later) < 20:
        pdu = receiver.read(timeout=max(0.01, started + 1.5 - time.monotonic()))
        assert isinstance(pdu, DeliverSm), pdu
        later.add(receipted_id(pdu))
        receiver.send(DeliverSmResp(sequence_number=pdu.sequence_number))
    assert receipted_id(first) not in later


def test_a_receiver_that_answers_nothing_is_sent_every_receipt_owed_at_once(
    bridge: Callable[[Toml], ServeProcess],
) -> None:
    port = bridge({}).port
    receiver = bound(port, BindReceiver)
    sender = bound(port, BindTransmitter)
    for submit in submits(5):  # one at a time: each receipt is queued while others are out
        sender.send(submit)
        assert sender.read().command_status == 0
    written = [receiver.read(timeout=1.5) for _ in range(5)]
    assert all(isinstance(pdu, DeliverSm) for pdu in written)
    assert len({receipted_id(pdu) for pdu in written if isinstance(pdu, DeliverSm)}) == 5
