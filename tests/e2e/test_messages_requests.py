"""submit_multi (built by hand: smpplib has none), data_sm, query_sm, cancel_sm and replace_sm
over real sockets against the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import smpplib.smpp
from smpplib_esme import submit

from bridge.pdu import (
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DistributionList,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
)

from .messages_rig import MessagesRig, running

pytestmark = pytest.mark.e2e


@pytest.fixture
def rig(tmp_path: Path, run_server: Callable[..., object]) -> Iterator[MessagesRig]:
    isms = {"max_destinations_per_request": 2}
    with running(tmp_path, run_server, isms=isms) as running_rig:
        yield running_rig


def sme(address: str, ton: int = 1) -> SmeAddress:
    return SmeAddress(dest_addr_ton=ton, dest_addr_npi=1, destination_addr=address)


def test_submit_multi_with_good_and_bad_destinations_lists_each_failure(rig: MessagesRig) -> None:
    esme = rig.raw()
    esme.send(
        SubmitMulti(
            source_addr="MyBrand",
            dest_addresses=(
                sme("60111111111"),
                SmeAddress(dest_addr_ton=5, destination_addr="NOTANUMBER"),
                sme("60122222222"),
                DistributionList(dl_name="staff"),
                sme("60133333333"),
                sme("60000001009"),  # sandbox: its batch is refused -1009
            ),
            short_message=b"Meeting at 10",
        )
    )
    response = esme.read()
    records = rig.sandbox.wait_for(2)
    assert isinstance(response, SubmitMultiResp) and response.command_status == 0
    # The two batches go to iSMS concurrently: the sandbox may record either first.
    batches = {tuple(r["destinations"]): r for r in records}
    first, second = ("60111111111", "60122222222"), ("60133333333", "60000001009")
    assert set(batches) == {first, second}
    assert response.message_id == batches[first]["trx_id"]
    assert [(u.destination_addr, u.error_status_code) for u in response.unsuccess_sme] == [
        ("NOTANUMBER", CommandStatus.ESME_RINVDSTADR),
        ("staff", CommandStatus.ESME_RCNTSUBDL),
        ("60133333333", CommandStatus.ESME_RINVDSTADR),
        ("60000001009", CommandStatus.ESME_RINVDSTADR),
    ]
    assert all(r["text"] == "Meeting at 10" for r in records)


def test_data_sm_sends_its_message_payload_and_gets_data_sm_resp(rig: MessagesRig) -> None:
    client = rig.smpplib("transceiver")
    pdu = smpplib.smpp.make_pdu(
        "data_sm",
        client=client,
        source_addr="MyBrand",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="60123456789",
        message_payload=b"sent by data sm",
    )
    client.send_pdu(pdu)
    response = client.read_pdu()
    [record] = rig.sandbox.wait_for(1)
    assert response.command == "data_sm_resp" and response.status == 0
    assert response.message_id.decode() == record["trx_id"]
    assert record["text"] == "sent by data sm"


def test_query_sm_reports_a_sent_message_as_accepted(rig: MessagesRig) -> None:
    client = rig.smpplib("transceiver")
    answer = submit(client, destination_addr="60123456789", short_message=b"query me")
    client.query_message(message_id=answer.message_id, source_addr="MyBrand")
    response = client.read_pdu()
    assert response.command == "query_sm_resp" and response.status == 0
    assert response.message_id.decode() == answer.message_id
    assert response.message_state == 6 and len(response.final_date) == 16


def test_query_sm_of_an_unknown_id_is_refused_rqueryfail(rig: MessagesRig) -> None:
    client = rig.smpplib("transceiver")
    client.query_message(message_id="123", source_addr="MyBrand")
    response = client.read_pdu()
    assert response.status == CommandStatus.ESME_RQUERYFAIL


def test_cancel_sm_and_replace_sm_are_refused_since_isms_cannot_recall(rig: MessagesRig) -> None:
    esme = rig.raw()
    [cancel] = esme.send(CancelSm(message_id="1"))
    assert esme.read() == CancelSmResp(
        command_status=CommandStatus.ESME_RCANCELFAIL, sequence_number=cancel
    )
    [replace] = esme.send(ReplaceSm(message_id="1", short_message=b"new"))
    assert esme.read() == ReplaceSmResp(
        command_status=CommandStatus.ESME_RREPLACEFAIL, sequence_number=replace
    )
