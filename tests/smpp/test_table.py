"""The session policy, checked against matrices written by hand from the spec.

Sources: SMPP 3.4 §2.2 (session states and what each bind may do), §4.1-§4.12 (who sends
which PDU), §4.3 (generic_nack), §5.1.3 (statuses), and this bridge's two choices where the
spec is silent: ESME_RALYBND for any bind once one was received, and generic_nack
ESME_RINVCMDID for an outbind (an SMSC-to-ESME PDU). These matrices are NOT derived from
bridge/smpp/table.py: they are the spec as a tester reads it, so a wrong row in the table
fails here.
"""

from __future__ import annotations

import pytest

from bridge.pdu import (
    PDU_CLASSES,
    RESPONSE_BIT,
    AlertNotification,
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    CancelSm,
    CommandId,
    DataSm,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Outbind,
    Pdu,
    QuerySm,
    ReplaceSm,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    Unbind,
)
from bridge.smpp import (
    BindRequested,
    EnquireLinkReceived,
    PduRejected,
    RequestReceived,
    SendNotAllowed,
    SessionState,
    UnbindRequested,
)
from bridge.smpp.table import INBOUND, OUTBOUND, POLICIES, Action

from .session_doubles import Esme

# What the bridge must do with a request from the ESME, per state.
#   bind   hand the bind to the application          app    hand the request to the application
#   resp   answer enquire_link_resp at once          unbind answer unbind_resp, become UNBOUND
#   0x04   own *_resp ESME_RINVBNDSTS                0x05   own *_resp ESME_RALYBND
#   nack   generic_nack ESME_RINVCMDID (PDUs only an SMSC sends and that have no *_resp)
INBOUND_SPEC = """
request             OPEN  BINDING BOUND_TX BOUND_RX BOUND_TRX UNBINDING UNBOUND
bind_transmitter    bind  0x05    0x05     0x05     0x05      0x05      0x05
bind_receiver       bind  0x05    0x05     0x05     0x05      0x05      0x05
bind_transceiver    bind  0x05    0x05     0x05     0x05      0x05      0x05
submit_sm           0x04  0x04    app      0x04     app       0x04      0x04
submit_multi        0x04  0x04    app      0x04     app       0x04      0x04
data_sm             0x04  0x04    app      0x04     app       0x04      0x04
query_sm            0x04  0x04    app      0x04     app       0x04      0x04
cancel_sm           0x04  0x04    app      0x04     app       0x04      0x04
replace_sm          0x04  0x04    app      0x04     app       0x04      0x04
deliver_sm          0x04  0x04    0x04     0x04     0x04      0x04      0x04
enquire_link        resp  resp    resp     resp     resp      resp      resp
unbind              0x04  0x04    unbind   unbind   unbind    unbind    0x04
outbind             nack  nack    nack     nack     nack      nack      nack
alert_notification  nack  nack    nack     nack     nack      nack      nack
"""

# May the bridge send this request in this state? (SMPP 3.4 §2.2: deliver_sm, data_sm and
# alert_notification go to receivers; enquire_link and unbind need a bind.)
OUTBOUND_SPEC = """
request             OPEN BINDING BOUND_TX BOUND_RX BOUND_TRX UNBINDING UNBOUND CLOSED
deliver_sm          no   no      no       yes      yes       no        no      no
data_sm             no   no      no       yes      yes       no        no      no
alert_notification  no   no      no       yes      yes       no        no      no
enquire_link        no   no      yes      yes      yes       no        no      no
unbind              no   no      yes      yes      yes       no        no      no
submit_sm           no   no      no       no       no        no        no      no
submit_multi        no   no      no       no       no        no        no      no
bind_transmitter    no   no      no       no       no        no        no      no
bind_transceiver    no   no      no       no       no        no        no      no
outbind             no   no      no       no       no        no        no      no
query_sm            no   no      no       no       no        no        no      no
"""


def _parse(spec: str) -> list[tuple[str, SessionState, str]]:
    header, *rows = [line.split() for line in spec.strip().splitlines()]
    states = [SessionState[name] for name in header[1:]]
    return [
        (row[0], state, cell) for row in rows for state, cell in zip(states, row[1:], strict=True)
    ]


INBOUND_CASES = _parse(INBOUND_SPEC)
OUTBOUND_CASES = _parse(OUTBOUND_SPEC)

# A valid PDU of each request, as an ESME (or the bridge) would send it.
EXAMPLES: dict[str, Pdu] = {
    "bind_transmitter": BindTransmitter(system_id="esme1", password="secret1"),
    "bind_receiver": BindReceiver(system_id="esme1", password="secret1"),
    "bind_transceiver": BindTransceiver(system_id="esme1", password="secret1"),
    "submit_sm": SubmitSm(destination_addr="60123456789", short_message=b"hi"),
    "submit_multi": SubmitMulti(
        dest_addresses=(SmeAddress(destination_addr="60123456789"),), short_message=b"hi"
    ),
    "data_sm": DataSm(destination_addr="60123456789"),
    "query_sm": QuerySm(message_id="12345"),
    "cancel_sm": CancelSm(message_id="12345"),
    "replace_sm": ReplaceSm(message_id="12345", short_message=b"hi"),
    "deliver_sm": DeliverSm(destination_addr="60123456789", short_message=b"hi"),
    "enquire_link": EnquireLink(),
    "unbind": Unbind(),
    "outbind": Outbind(system_id="esme1"),
    "alert_notification": AlertNotification(source_addr="60123456789"),
}


def _id(name: str) -> int:
    return CommandId[name.upper()]


def esme_in(state: SessionState) -> Esme:
    """An ESME whose session is in `state` (UNBOUND still owes an answer, so it reads on)."""
    esme = Esme()
    if state is SessionState.BINDING:
        esme.send(EXAMPLES["bind_transceiver"])
    elif state in (SessionState.BOUND_TX, SessionState.BOUND_RX, SessionState.BOUND_TRX):
        esme.bind(state)
    elif state is SessionState.UNBINDING:
        esme.bind()
        esme.session.start_unbind(esme.now)
    elif state is SessionState.UNBOUND:
        esme.bind()
        esme.submit()
        esme.send(Unbind())
    elif state is SessionState.CLOSED:
        esme.close()
    esme.take()
    assert esme.session.state is state
    return esme


@pytest.mark.parametrize(("name", "state", "expected"), INBOUND_CASES)
def test_table_row_for_each_request_in_each_state_is_the_specs(
    name: str, state: SessionState, expected: str
) -> None:
    rule = INBOUND[(state, _id(name))]
    action = {
        "bind": Action.BIND,
        "app": Action.REQUEST,
        "resp": Action.ENQUIRE_LINK,
        "unbind": Action.UNBIND,
    }.get(expected, Action.REFUSE)
    assert rule.action is action
    if action is Action.REFUSE:
        assert rule.refusal is not None
        status = 0x03 if expected == "nack" else int(expected, 16)
        assert rule.refusal.default_status == status


@pytest.mark.parametrize(("name", "state", "expected"), INBOUND_CASES)
def test_session_answers_each_request_in_each_state_as_the_spec_says(
    name: str, state: SessionState, expected: str
) -> None:
    esme = esme_in(state)
    request = esme.number(EXAMPLES[name])
    (event,) = esme.send(request)
    wire = esme.take()
    if expected == "bind":
        assert isinstance(event, BindRequested) and wire == []
        assert esme.session.state is SessionState.BINDING
    elif expected == "app":
        assert event == RequestReceived(pdu=request)  # type: ignore[arg-type]
        assert wire == []
    elif expected == "resp":
        assert event == EnquireLinkReceived(sequence_number=request.sequence_number)
        assert [(p.command_id, p.command_status) for p in wire] == [(0x80000015, 0)]
    elif expected == "unbind":
        assert event == UnbindRequested(sequence_number=request.sequence_number)
        assert [(p.command_id, p.command_status) for p in wire] == [(0x80000006, 0)]
        assert esme.session.state is SessionState.UNBOUND
    else:
        status = 0x03 if expected == "nack" else int(expected, 16)
        answer_class = GenericNack if expected == "nack" else PDU_CLASSES[_id(name) | RESPONSE_BIT]
        assert isinstance(event, PduRejected) and event.command_status == status
        assert not event.closing
        (answer,) = wire
        assert type(answer) is answer_class
        assert (answer.command_status, answer.sequence_number) == (
            status,
            request.sequence_number,
        )
        assert esme.session.state is state  # a refusal never moves the session


@pytest.mark.parametrize(("name", "state", "expected"), OUTBOUND_CASES)
def test_the_bridge_sends_a_request_only_where_the_spec_allows_it(
    name: str, state: SessionState, expected: str
) -> None:
    esme = esme_in(state)
    assert esme.session.may_send(_id(name)) is (expected == "yes")
    if expected == "yes":
        number = esme.answer(EXAMPLES[name])
        (sent,) = esme.take()
        assert (sent.command_id, sent.sequence_number) == (_id(name), number)
    else:
        with pytest.raises(SendNotAllowed):
            esme.answer(EXAMPLES[name])
        assert esme.take() == []


def test_no_response_id_has_an_inbound_row_because_responses_are_never_answered() -> None:
    assert not [key for key in INBOUND if key[1] & RESPONSE_BIT]


def test_only_the_closed_state_stops_reading_input() -> None:
    assert [s for s, p in POLICIES.items() if not p.reads_input] == [SessionState.CLOSED]


def test_outbound_rows_exist_only_for_requests() -> None:
    assert not [key for key in OUTBOUND if key[1] & RESPONSE_BIT]
