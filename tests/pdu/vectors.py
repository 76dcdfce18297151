"""The project's golden PDUs: (name, PDU object, hex), at least one per SMPP 3.4 PDU type.

Every hex string was written field by field from SMPP 3.4 §4 (the comment on each line says
which field) and checked by hand; `command_length` was counted from the fields. Rows with a
`smpplib` recipe are also produced byte for byte by the real smpplib client
(tests/pdu/test_smpplib_interop.py builds them with smpplib.smpp.make_pdu and compares).
Both directions run over every row (tests/pdu/test_codec.py): encode(pdu) == hex and
decode(hex) == pdu.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.pdu import (
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    NetworkErrorCode,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlv,
    Unbind,
    UnbindResp,
    UnsuccessSme,
)


@dataclass(frozen=True, slots=True)
class Vector:
    name: str
    pdu: Pdu
    hex: str
    # (smpplib command name, make_pdu keyword arguments) when smpplib builds the same bytes.
    smpplib: tuple[str, dict[str, Any]] | None = field(default=None)

    @property
    def octets(self) -> bytes:
        return bytes.fromhex(self.hex)


RECEIPT_TEXT = (
    b"id:68120712 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
    b"stat:DELIVRD err:000 text:Hello"
)

# fmt: off
VECTORS: tuple[Vector, ...] = (
    Vector(
        "bind_transmitter",
        BindTransmitter(sequence_number=1, system_id="isms", password="secret"),
        "00000021" "00000002" "00000000" "00000001"  # length 33, bind_transmitter, ROK, seq 1
        "69736d7300"  # system_id "isms"
        "73656372657400"  # password "secret"
        "00"  # system_type ""
        "34" "00" "00"  # interface_version 3.4, addr_ton, addr_npi
        "00",  # address_range ""
        ("bind_transmitter", {"system_id": "isms", "password": "secret", "system_type": "",
                              "addr_ton": 0, "addr_npi": 0, "address_range": ""}),
    ),
    Vector(
        "bind_receiver",
        BindReceiver(sequence_number=2, system_id="isms", password="secret"),
        "00000021" "00000001" "00000000" "00000002"
        "69736d7300" "73656372657400" "00" "340000" "00",
        ("bind_receiver", {"system_id": "isms", "password": "secret", "system_type": "",
                           "addr_ton": 0, "addr_npi": 0, "address_range": ""}),
    ),
    Vector(
        "bind_transceiver with system_type and addr_ton/npi",
        BindTransceiver(
            sequence_number=3,
            system_id="smppclient1",
            password="password",
            system_type="VMA",
            addr_ton=1,
            addr_npi=1,
        ),
        "0000002d" "00000009" "00000000" "00000003"  # length 45
        "736d7070636c69656e743100"  # system_id "smppclient1"
        "70617373776f726400"  # password "password" (8 characters, the maximum)
        "564d4100"  # system_type "VMA"
        "34" "01" "01"  # interface_version, addr_ton 1, addr_npi 1
        "00",  # address_range
        ("bind_transceiver", {"system_id": "smppclient1", "password": "password",
                              "system_type": "VMA", "addr_ton": 1, "addr_npi": 1,
                              "address_range": ""}),
    ),
    Vector(
        "bind_transmitter_resp with sc_interface_version",
        BindTransmitterResp(
            sequence_number=1,
            system_id="isms-bridge",
            tlvs=(Tlv(Tag.SC_INTERFACE_VERSION, 0x34),),
        ),
        "00000021" "80000002" "00000000" "00000001"  # length 33
        "69736d732d62726964676500"  # system_id "isms-bridge"
        "0210" "0001" "34",  # TLV sc_interface_version = 0x34
        ("bind_transmitter_resp", {"system_id": "isms-bridge", "sc_interface_version": 0x34}),
    ),
    Vector(
        "bind_receiver_resp refusing with no body",
        BindReceiverResp(command_status=0x0E, sequence_number=2, system_id=None),
        "00000010" "80000001" "0000000e" "00000002",  # ESME_RINVPASWD, header only
    ),
    Vector(
        "bind_transceiver_resp",
        BindTransceiverResp(sequence_number=3, system_id="isms-bridge"),
        "0000001c" "80000009" "00000000" "00000003"  # length 28
        "69736d732d62726964676500",
        ("bind_transceiver_resp", {"system_id": "isms-bridge"}),
    ),
    Vector(
        "outbind",
        Outbind(sequence_number=4, system_id="isms", password="pw"),
        "00000018" "0000000b" "00000000" "00000004"  # length 24
        "69736d7300"  # system_id
        "707700",  # password "pw"
    ),
    Vector(
        "unbind",
        Unbind(sequence_number=5),
        "00000010" "00000006" "00000000" "00000005",
        ("unbind", {}),
    ),
    Vector(
        "unbind_resp",
        UnbindResp(sequence_number=5),
        "00000010" "80000006" "00000000" "00000005",
        ("unbind_resp", {}),
    ),
    Vector(
        "generic_nack for an unknown command_id",
        GenericNack(command_status=0x03, sequence_number=6),
        "00000010" "80000000" "00000003" "00000006",  # ESME_RINVCMDID
        ("generic_nack", {"status": 0x03}),
    ),
    Vector(
        "enquire_link",
        EnquireLink(sequence_number=7),
        "00000010" "00000015" "00000000" "00000007",
        ("enquire_link", {}),
    ),
    Vector(
        "enquire_link_resp",
        EnquireLinkResp(sequence_number=7),
        "00000010" "80000015" "00000000" "00000007",
        ("enquire_link_resp", {}),
    ),
    Vector(
        "submit_sm",
        SubmitSm(
            sequence_number=8,
            source_addr_ton=5,
            source_addr="ISMS",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="60123456789",
            registered_delivery=1,
            short_message=b"Hello",
        ),
        "00000035" "00000004" "00000000" "00000008"  # length 53
        "00"  # service_type ""
        "05" "00" "49534d5300"  # source_addr_ton 5 (alphanumeric), npi 0, "ISMS"
        "01" "01" "363031323334353637383900"  # dest ton 1, npi 1, "60123456789"
        "00" "00" "00"  # esm_class, protocol_id, priority_flag
        "00" "00"  # schedule_delivery_time "", validity_period ""
        "01" "00" "00" "00"  # registered_delivery 1, replace_if_present, data_coding, default id
        "05" "48656c6c6f",  # sm_length 5, "Hello"
        ("submit_sm", {"service_type": "", "source_addr_ton": 5, "source_addr_npi": 0,
                       "source_addr": "ISMS", "dest_addr_ton": 1, "dest_addr_npi": 1,
                       "destination_addr": "60123456789", "esm_class": 0, "protocol_id": 0,
                       "priority_flag": 0, "schedule_delivery_time": "", "validity_period": "",
                       "registered_delivery": 1, "replace_if_present_flag": 0,
                       "data_coding": 0, "sm_default_msg_id": 0, "short_message": b"Hello"}),
    ),
    Vector(
        "submit_sm with UCS-2 text, validity period, SAR and a vendor TLV",
        SubmitSm(
            sequence_number=9,
            service_type="CMT",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="60198765432",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="60123456789",
            priority_flag=1,
            validity_period="000001000000000R",
            registered_delivery=1,
            data_coding=8,
            short_message="Hi".encode("utf-16-be"),
            tlvs=(
                Tlv(Tag.SAR_MSG_REF_NUM, 0x1234),
                Tlv(Tag.SAR_TOTAL_SEGMENTS, 2),
                Tlv(Tag.SAR_SEGMENT_SEQNUM, 1),
                Tlv(0x1400, b"ab"),
            ),
        ),
        "00000064" "00000004" "00000000" "00000009"  # length 100
        "434d5400"  # service_type "CMT"
        "01" "01" "363031393837363534333200"  # source 1/1 "60198765432"
        "01" "01" "363031323334353637383900"  # dest 1/1 "60123456789"
        "00" "00" "01"  # esm_class, protocol_id, priority_flag 1
        "00"  # schedule_delivery_time ""
        "30303030303130303030303030303052" "00"  # validity_period, relative: one day
        "01" "00" "08" "00"  # registered_delivery, replace_if_present, data_coding UCS-2, id
        "04" "00480069"  # sm_length 4, "Hi" in UTF-16BE
        "020c" "0002" "1234"  # sar_msg_ref_num 0x1234
        "020e" "0001" "02"  # sar_total_segments 2
        "020f" "0001" "01"  # sar_segment_seqnum 1
        "1400" "0002" "6162",  # vendor tag 0x1400, kept raw
    ),
    Vector(
        "submit_sm_resp",
        SubmitSmResp(sequence_number=8, message_id="68120712"),
        "00000019" "80000004" "00000000" "00000008"  # length 25
        "363831323037313200",  # message_id "68120712" (an iSMS trx_id)
        ("submit_sm_resp", {"message_id": "68120712"}),
    ),
    Vector(
        "submit_sm_resp refusing with no body",
        SubmitSmResp(command_status=0x45, sequence_number=9, message_id=None),
        "00000010" "80000004" "00000045" "00000009",  # ESME_RSUBMITFAIL, header only
    ),
    Vector(
        "deliver_sm carrying a delivery receipt",
        DeliverSm(
            sequence_number=10,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="60123456789",
            dest_addr_ton=5,
            destination_addr="ISMS",
            esm_class=0x04,
            short_message=RECEIPT_TEXT,
            tlvs=(
                Tlv(Tag.NETWORK_ERROR_CODE, NetworkErrorCode(network_type=3, error_code=0)),
                Tlv(Tag.MESSAGE_STATE, 2),
                Tlv(Tag.RECEIPTED_MESSAGE_ID, "68120712"),
            ),
        ),
        "000000b2" "00000005" "00000000" "0000000a"  # length 178
        "00"  # service_type
        "01" "01" "363031323334353637383900"  # source: the handset
        "05" "00" "49534d5300"  # destination: the original sender
        "04" "00" "00"  # esm_class 0x04 = SMSC delivery receipt
        "00" "00"  # schedule, validity: "" in deliver_sm
        "00" "00" "00" "00"  # registered_delivery, replace_if_present, data_coding, default id
        "69"  # sm_length 105
        "69643a3638313230373132207375623a30303120646c7672643a303031207375"
        "626d697420646174653a3234303130313132303020646f6e6520646174653a32"
        "34303130313132303120737461743a44454c49565244206572723a3030302074"
        "6578743a48656c6c6f"
        "0423" "0003" "030000"  # network_error_code: GSM, error 0
        "0427" "0001" "02"  # message_state DELIVERED
        "001e" "0009" "363831323037313200",  # receipted_message_id "68120712"
        ("deliver_sm", {"service_type": "", "source_addr_ton": 1, "source_addr_npi": 1,
                        "source_addr": "60123456789", "dest_addr_ton": 5, "dest_addr_npi": 0,
                        "destination_addr": "ISMS", "esm_class": 4, "protocol_id": 0,
                        "priority_flag": 0, "schedule_delivery_time": "",
                        "validity_period": "", "registered_delivery": 0,
                        "replace_if_present_flag": 0, "data_coding": 0, "sm_default_msg_id": 0,
                        "short_message": RECEIPT_TEXT, "network_error_code": b"\x03\x00\x00",
                        "message_state": 2, "receipted_message_id": "68120712"}),
    ),
    Vector(
        "deliver_sm_resp",
        DeliverSmResp(sequence_number=10, message_id=""),
        "00000011" "80000005" "00000000" "0000000a"  # length 17
        "00",  # message_id "" (unused, SMPP 3.4 §4.6.2)
        ("deliver_sm_resp", {}),
    ),
    Vector(
        "submit_multi to an SME and a distribution list",
        SubmitMulti(
            sequence_number=11,
            source_addr_ton=5,
            source_addr="ISMS",
            dest_addresses=(
                SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="60123456789"),
                DistributionList(dl_name="friends"),
            ),
            short_message=b"Hi",
        ),
        "0000003d" "00000021" "00000000" "0000000b"  # length 61
        "00"  # service_type
        "05" "00" "49534d5300"  # source
        "02"  # number_of_dests
        "01" "01" "01" "363031323334353637383900"  # dest_flag 1 (SME), ton, npi, address
        "02" "667269656e647300"  # dest_flag 2 (list), dl_name "friends"
        "00" "00" "00" "00" "00"  # esm_class, protocol_id, priority, schedule, validity
        "00" "00" "00" "00"  # registered_delivery, replace_if_present, data_coding, id
        "02" "4869",  # sm_length 2, "Hi"
    ),
    Vector(
        "submit_multi_resp with one unsuccessful SME",
        SubmitMultiResp(
            sequence_number=11,
            message_id="mm1",
            unsuccess_sme=(
                UnsuccessSme(
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="60123456789",
                    error_status_code=0x0B,
                ),
            ),
        ),
        "00000027" "80000021" "00000000" "0000000b"  # length 39
        "6d6d3100"  # message_id "mm1"
        "01"  # no_unsuccess
        "01" "01" "363031323334353637383900" "0000000b",  # ton, npi, address, ESME_RINVDSTADR
    ),
    Vector(
        "data_sm with message_payload",
        DataSm(
            sequence_number=12,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="60123456789",
            dest_addr_ton=5,
            destination_addr="ISMS",
            tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"Hi"),),
        ),
        "0000002f" "00000103" "00000000" "0000000c"  # length 47
        "00"  # service_type
        "01" "01" "363031323334353637383900"  # source
        "05" "00" "49534d5300"  # destination
        "00" "00" "00"  # esm_class, registered_delivery, data_coding
        "0424" "0002" "4869",  # message_payload "Hi"
    ),
    Vector(
        "data_sm_resp",
        DataSmResp(sequence_number=12, message_id="d1"),
        "00000013" "80000103" "00000000" "0000000c"  # length 19
        "643100",
        ("data_sm_resp", {"message_id": "d1"}),
    ),
    Vector(
        "query_sm",
        QuerySm(sequence_number=13, message_id="68120712", source_addr_ton=5, source_addr="ISMS"),
        "00000020" "00000003" "00000000" "0000000d"  # length 32
        "363831323037313200"  # message_id
        "05" "00" "49534d5300",  # source
        ("query_sm", {"message_id": "68120712", "source_addr_ton": 5, "source_addr_npi": 0,
                      "source_addr": "ISMS"}),
    ),
    Vector(
        "query_sm_resp",
        QuerySmResp(
            sequence_number=13,
            message_id="68120712",
            final_date="240101120000000+",
            message_state=2,
        ),
        "0000002c" "80000003" "00000000" "0000000d"  # length 44
        "363831323037313200"  # message_id
        "3234303130313132303030303030302b" "00"  # final_date, absolute
        "02" "00",  # message_state DELIVERED, error_code 0
        ("query_sm_resp", {"message_id": "68120712", "final_date": "240101120000000+",
                           "message_state": 2, "error_code": 0}),
    ),
    Vector(
        "cancel_sm",
        CancelSm(
            sequence_number=14,
            message_id="68120712",
            source_addr_ton=5,
            source_addr="ISMS",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="60123456789",
        ),
        "0000002f" "00000008" "00000000" "0000000e"  # length 47
        "00"  # service_type
        "363831323037313200"  # message_id
        "05" "00" "49534d5300"  # source
        "01" "01" "363031323334353637383900",  # destination
    ),
    Vector(
        "cancel_sm_resp",
        CancelSmResp(sequence_number=14),
        "00000010" "80000008" "00000000" "0000000e",
    ),
    Vector(
        "replace_sm",
        ReplaceSm(
            sequence_number=15,
            message_id="68120712",
            source_addr_ton=5,
            source_addr="ISMS",
            registered_delivery=1,
            short_message=b"New",
        ),
        "00000028" "00000007" "00000000" "0000000f"  # length 40
        "363831323037313200"  # message_id
        "05" "00" "49534d5300"  # source
        "00" "00"  # schedule_delivery_time, validity_period
        "01" "00"  # registered_delivery, sm_default_msg_id
        "03" "4e6577",  # sm_length 3, "New"
    ),
    Vector(
        "replace_sm_resp",
        ReplaceSmResp(sequence_number=15),
        "00000010" "80000007" "00000000" "0000000f",
    ),
    Vector(
        "alert_notification",
        AlertNotification(
            sequence_number=16,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="60123456789",
            esme_addr_ton=5,
            esme_addr="ISMS",
            tlvs=(Tlv(Tag.MS_AVAILABILITY_STATUS, 0),),
        ),
        "0000002a" "00000102" "00000000" "00000010"  # length 42
        "01" "01" "363031323334353637383900"  # source
        "05" "00" "49534d5300"  # esme_addr
        "0422" "0001" "00",  # ms_availability_status: available
        ("alert_notification", {"source_addr_ton": 1, "source_addr_npi": 1,
                                "source_addr": "60123456789", "esme_addr_ton": 5,
                                "esme_addr_npi": 0, "esme_addr": "ISMS",
                                "ms_availability_status": 0}),
    ),
)
# fmt: on
