"""What the answers built from a status alone look like on the wire (bodies, not policy).

- An error answer is the request's own *_resp carrying the status (SMPP 3.4 §4.3: "errors
  inside the body of a known request -> its own *_resp"), or generic_nack when the PDU has
  no *_resp (outbind, alert_notification) or its command_id is unknown. `error_answer`
  builds it for everyone who refuses a request: the session, the server and the pipeline.
- Error *_resp PDUs carry no body: SMPP 3.4 §4.4.2 says the submit_sm_resp body "is not
  returned if the command_status field contains a non-zero value", and smpplib and the
  other clients read a bare header fine. The exception is bind_*_resp, which always names
  the bridge (system_id), so a client that insists on a body still parses the refusal.
- bind_*_resp adds sc_interface_version 0x34 when the ESME bound with interface_version
  0x34 or later (SMPP 3.4 §4.1.2, §5.3.2.25); an older ESME would not understand the TLV.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.pdu import (
    BindReceiverResp,
    BindResp,
    BindTransceiverResp,
    BindTransmitterResp,
    CancelSmResp,
    CommandId,
    DataSmResp,
    DeliverSmResp,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    QuerySmResp,
    ReplaceSmResp,
    SubmitMultiResp,
    SubmitSmResp,
    Tag,
    Tlv,
    UnbindResp,
)

SMPP_34 = 0x34

_BIND_RESPONSES: dict[int, type[BindResp]] = {
    CommandId.BIND_TRANSMITTER: BindTransmitterResp,
    CommandId.BIND_RECEIVER: BindReceiverResp,
    CommandId.BIND_TRANSCEIVER: BindTransceiverResp,
}

# (status, sequence_number) -> the request's *_resp with no body.
_BARE_RESPONSES: dict[int, Callable[[int, int], Pdu]] = {
    CommandId.SUBMIT_SM: lambda st, seq: SubmitSmResp(
        command_status=st, sequence_number=seq, message_id=None
    ),
    CommandId.SUBMIT_MULTI: lambda st, seq: SubmitMultiResp(
        command_status=st, sequence_number=seq, message_id=None
    ),
    CommandId.DELIVER_SM: lambda st, seq: DeliverSmResp(
        command_status=st, sequence_number=seq, message_id=None
    ),
    CommandId.DATA_SM: lambda st, seq: DataSmResp(
        command_status=st, sequence_number=seq, message_id=None
    ),
    CommandId.QUERY_SM: lambda st, seq: QuerySmResp(
        command_status=st, sequence_number=seq, message_id=None
    ),
    CommandId.CANCEL_SM: lambda st, seq: CancelSmResp(command_status=st, sequence_number=seq),
    CommandId.REPLACE_SM: lambda st, seq: ReplaceSmResp(command_status=st, sequence_number=seq),
    CommandId.UNBIND: lambda st, seq: UnbindResp(command_status=st, sequence_number=seq),
    CommandId.ENQUIRE_LINK: lambda st, seq: EnquireLinkResp(command_status=st, sequence_number=seq),
}


def bind_answer(
    command_id: int,
    sequence_number: int,
    command_status: int,
    our_system_id: str,
    interface_version: int = 0,
) -> BindResp:
    """The bind_*_resp for a bind with this command_id (a bind_transmitter gets a
    bind_transmitter_resp), accepted when command_status is 0."""
    tlvs: tuple[Tlv, ...] = ()
    if command_status == 0 and interface_version >= SMPP_34:
        tlvs = (Tlv(Tag.SC_INTERFACE_VERSION, SMPP_34),)
    return _BIND_RESPONSES[command_id](
        command_status=command_status,
        sequence_number=sequence_number,
        system_id=our_system_id,
        tlvs=tlvs,
    )


def error_answer(
    command_id: int | None, sequence_number: int, command_status: int, our_system_id: str = ""
) -> Pdu:
    """The answer refusing a request: its own *_resp carrying `command_status` and no body,
    else a generic_nack (command_id None: the request could not be read; or no *_resp).

    Only a bind_*_resp has a body (`our_system_id`); binds are refused by the session alone,
    which passes it.
    """
    if command_id is None:
        return GenericNack(command_status=command_status, sequence_number=sequence_number)
    if command_id in _BIND_RESPONSES:
        return bind_answer(command_id, sequence_number, command_status, our_system_id)
    build = _BARE_RESPONSES.get(command_id)
    if build is None:
        return GenericNack(command_status=command_status, sequence_number=sequence_number)
    return build(command_status, sequence_number)
