"""The typed face of every SMPP 3.4 PDU: one frozen dataclass per PDU, with the spec's names.

Fields are the mandatory parameters in spec order (SMPP 3.4 §4), then `tlvs`, the optional
parameters in the order they arrived. `command_length` and `sm_length` are derived when
encoding and never stored. C-Octet Strings are `str` (Latin-1, so any octet survives);
`short_message` is `bytes`.

On response PDUs a body field of `None` means "no body on the wire": SMPP 3.4 §4.4.2 lets a
server omit the body of an error response, and live peers also omit it on success. Keeping
that distinction makes every captured PDU round-trip byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from bridge.pdu.commands import CommandId
from bridge.pdu.tlv import Tlv, TlvValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Pdu:
    """Header fields shared by every PDU (SMPP 3.4 §3.2)."""

    command_id: ClassVar[CommandId]
    command_status: int = 0
    sequence_number: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PduWithTlvs(Pdu):
    tlvs: tuple[Tlv, ...] = ()

    def tlv(self, tag: int) -> TlvValue | None:
        """The value of the first optional parameter with this tag, or None."""
        for tlv in self.tlvs:
            if tlv.tag == tag:
                return tlv.value
        return None


# --- bind (SMPP 3.4 §4.1) -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Bind(Pdu):
    system_id: str = ""
    password: str = field(default="", repr=False)
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitter(Bind):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSMITTER


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiver(Bind):
    command_id: ClassVar[CommandId] = CommandId.BIND_RECEIVER


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiver(Bind):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSCEIVER


@dataclass(frozen=True, slots=True, kw_only=True)
class BindResp(PduWithTlvs):
    system_id: str | None = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitterResp(BindResp):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSMITTER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiverResp(BindResp):
    command_id: ClassVar[CommandId] = CommandId.BIND_RECEIVER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiverResp(BindResp):
    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSCEIVER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbind(Pdu):
    command_id: ClassVar[CommandId] = CommandId.OUTBIND
    system_id: str = ""
    password: str = field(default="", repr=False)


# --- header-only PDUs (SMPP 3.4 §4.2, §4.3, §4.11) ---------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbind(Pdu):
    command_id: ClassVar[CommandId] = CommandId.UNBIND


@dataclass(frozen=True, slots=True, kw_only=True)
class UnbindResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.UNBIND_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericNack(Pdu):
    command_id: ClassVar[CommandId] = CommandId.GENERIC_NACK


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLink(Pdu):
    command_id: ClassVar[CommandId] = CommandId.ENQUIRE_LINK


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.ENQUIRE_LINK_RESP


# --- submit_sm / deliver_sm (SMPP 3.4 §4.4, §4.6) ---------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortMessagePdu(PduWithTlvs):
    """submit_sm and deliver_sm share one body layout (SMPP 3.4 §4.4.1, §4.6.1)."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(ShortMessagePdu):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_SM


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(ShortMessagePdu):
    command_id: ClassVar[CommandId] = CommandId.DELIVER_SM


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSmResp(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_SM_RESP
    message_id: str | None = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmResp(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.DELIVER_SM_RESP
    message_id: str | None = ""


# --- submit_multi (SMPP 3.4 §4.5) -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SmeAddress:
    """dest_flag 1: one SME address."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionList:
    """dest_flag 2: a distribution list held by the SMSC."""

    dl_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMulti(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_MULTI
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: tuple[SmeAddress | DistributionList, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsuccessSme:
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMultiResp(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.SUBMIT_MULTI_RESP
    message_id: str | None = ""
    unsuccess_sme: tuple[UnsuccessSme, ...] = ()


# --- data_sm (SMPP 3.4 §4.7) ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSm(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.DATA_SM
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSmResp(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.DATA_SM_RESP
    message_id: str | None = ""


# --- query_sm, cancel_sm, replace_sm (SMPP 3.4 §4.8-§4.10) ------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.QUERY_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.QUERY_SM_RESP
    # None = no body (an error response may omit it).
    message_id: str | None = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.CANCEL_SM
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.CANCEL_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSm(Pdu):
    command_id: ClassVar[CommandId] = CommandId.REPLACE_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSmResp(Pdu):
    command_id: ClassVar[CommandId] = CommandId.REPLACE_SM_RESP


# --- alert_notification (SMPP 3.4 §4.12) ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotification(PduWithTlvs):
    command_id: ClassVar[CommandId] = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""


PDU_CLASSES: dict[int, type[Pdu]] = {
    cls.command_id: cls
    for cls in (
        BindTransmitter,
        BindReceiver,
        BindTransceiver,
        BindTransmitterResp,
        BindReceiverResp,
        BindTransceiverResp,
        Outbind,
        Unbind,
        UnbindResp,
        GenericNack,
        EnquireLink,
        EnquireLinkResp,
        SubmitSm,
        SubmitSmResp,
        DeliverSm,
        DeliverSmResp,
        SubmitMulti,
        SubmitMultiResp,
        DataSm,
        DataSmResp,
        QuerySm,
        QuerySmResp,
        CancelSm,
        CancelSmResp,
        ReplaceSm,
        ReplaceSmResp,
        AlertNotification,
    )
}
