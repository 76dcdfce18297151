"""hypothesis strategies for every SMPP 3.4 PDU, written from the spec (not from layout.py).

`pdus()` draws valid PDUs of every type; `hot_pdus()` those the fast path handles;
`invalid_pdus()` PDUs with one field the spec forbids (too long, NUL inside, out of range,
wrong TLV type), which encode() must refuse with PduError.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

from bridge.pdu import (
    PDU_CLASSES,
    TLV_SPECS,
    BindResp,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    NetworkErrorCode,
    Pdu,
    QuerySmResp,
    SmeAddress,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tlv,
    TlvKind,
    Unbind,
    UnbindResp,
    UnsuccessSme,
)

# Latin-1 without NUL: every character a C-Octet String can carry.
_CHARACTERS = st.characters(min_codepoint=1, max_codepoint=255)


def c_octet_string(maximum: int) -> st.SearchStrategy[str]:
    """A C-Octet String value; SMPP 3.4 §3.1: `maximum` counts the NUL."""
    return st.text(_CHARACTERS, max_size=maximum - 1)


# SMPP 3.4 §7.1.1: YYMMDDhhmmsstnnp, absolute (+/-) or relative (R).
time_field = st.one_of(
    st.just(""),
    st.from_regex(r"\A[0-9]{15}[+R-]\Z"),
)
int1 = st.integers(0, 0xFF)
int2 = st.integers(0, 0xFFFF)
int4 = st.integers(0, 0xFFFF_FFFF)
short_message = st.binary(max_size=255)

_VENDOR_OR_UNKNOWN_TAGS = st.integers(0, 0xFFFF).filter(lambda tag: tag not in TLV_SPECS)


def _known_tlv(tag: int) -> st.SearchStrategy[Tlv]:
    spec = TLV_SPECS[tag]
    value: st.SearchStrategy[Any]
    if spec.kind is TlvKind.INT1:
        value = int1
    elif spec.kind is TlvKind.INT2:
        value = int2
    elif spec.kind is TlvKind.INT4:
        value = int4
    elif spec.kind is TlvKind.CSTRING:
        value = c_octet_string(spec.max_length)
    elif spec.kind is TlvKind.NETWORK_ERROR_CODE:
        value = st.builds(NetworkErrorCode, network_type=int1, error_code=int2)
    else:
        value = st.binary(max_size=300)
    return value.map(lambda v: Tlv(tag, v))


tlv = st.one_of(
    st.sampled_from(sorted(TLV_SPECS)).flatmap(_known_tlv),
    st.builds(Tlv, _VENDOR_OR_UNKNOWN_TAGS, st.binary(max_size=40)),
)
tlvs = st.lists(tlv, max_size=4).map(tuple)

# Field strategies by spec name and, where the maximum differs between PDUs, by PDU.
_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "command_status": int4,
    "sequence_number": int4,
    "system_id": c_octet_string(16),
    "password": c_octet_string(9),
    "system_type": c_octet_string(13),
    "address_range": c_octet_string(41),
    "service_type": c_octet_string(6),
    "source_addr": c_octet_string(21),
    "destination_addr": c_octet_string(21),
    "esme_addr": c_octet_string(65),
    "message_id": c_octet_string(65),
    "schedule_delivery_time": time_field,
    "validity_period": time_field,
    "final_date": time_field,
    "short_message": short_message,
    "tlvs": tlvs,
    "dest_addresses": st.lists(
        st.one_of(
            st.builds(
                SmeAddress,
                dest_addr_ton=int1,
                dest_addr_npi=int1,
                destination_addr=c_octet_string(21),
            ),
            st.builds(DistributionList, dl_name=c_octet_string(21)),
        ),
        max_size=5,
    ).map(tuple),
    "unsuccess_sme": st.lists(
        st.builds(
            UnsuccessSme,
            dest_addr_ton=int1,
            dest_addr_npi=int1,
            destination_addr=c_octet_string(21),
            error_status_code=int4,
        ),
        max_size=5,
    ).map(tuple),
}
# SMPP 3.4 §4.7.1, §4.12.1: data_sm and alert_notification carry 65-octet addresses.
_WIDE_ADDRESSES = {"source_addr": c_octet_string(65), "destination_addr": c_octet_string(65)}

# Responses whose body a peer may leave out (None in the first body field).
OPTIONAL_BODY_FIELD: dict[type[Pdu], str] = {
    cls: ("system_id" if issubclass(cls, BindResp) else "message_id")
    for cls in PDU_CLASSES.values()
    if issubclass(cls, BindResp | SubmitSmResp | DeliverSmResp | DataSmResp)
    or cls in (SubmitMultiResp, QuerySmResp)
}

HOT_CLASSES: tuple[type[Pdu], ...] = (
    SubmitSm,
    DeliverSm,
    SubmitSmResp,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Unbind,
    UnbindResp,
    GenericNack,
)


def _field_strategy(cls: type[Pdu], name: str) -> st.SearchStrategy[Any]:
    if cls.command_id in (0x103, 0x102) and name in _WIDE_ADDRESSES:
        return _WIDE_ADDRESSES[name]
    return _FIELDS.get(name, int1)


def pdus_of(cls: type[Pdu]) -> st.SearchStrategy[Pdu]:
    """Valid PDUs of one type, including the body-less form of optional-body responses."""
    fields = {f.name: _field_strategy(cls, f.name) for f in dataclasses.fields(cls)}
    full = st.builds(cls, **fields)
    if cls not in OPTIONAL_BODY_FIELD:
        return full
    bodiless = st.builds(
        cls, command_status=int4, sequence_number=int4, **{OPTIONAL_BODY_FIELD[cls]: st.none()}
    )
    return st.one_of(full, bodiless)


def pdus() -> st.SearchStrategy[Pdu]:
    return st.sampled_from(list(PDU_CLASSES.values())).flatmap(pdus_of)


def hot_pdus() -> st.SearchStrategy[Pdu]:
    return st.sampled_from(HOT_CLASSES).flatmap(pdus_of)


# --- one wrong field ----------------------------------------------------------------------

_WRONG_STRINGS = st.one_of(
    st.text(_CHARACTERS, min_size=66, max_size=80),  # longer than any 3.4 maximum
    st.text(_CHARACTERS, max_size=4).map(lambda s: s + "\x00"),  # NUL inside
    st.text(st.characters(min_codepoint=256), min_size=1, max_size=3),  # not Latin-1
)
_WRONG_INTS = st.one_of(st.integers(max_value=-1), st.integers(min_value=0x1_0000_0000))
_WRONG_TLVS = st.one_of(
    st.builds(Tlv, st.sampled_from([0x020E, 0x0204, 0x0017]), st.text(max_size=3)),
    st.builds(Tlv, st.just(0x001E), st.binary(max_size=3)),
    st.builds(Tlv, st.just(0x001E), st.text(_CHARACTERS, min_size=65, max_size=70)),
    st.builds(Tlv, st.just(0x0424), st.integers(0, 9)),
    st.builds(Tlv, st.just(0x020E), st.integers(256, 70_000)),
    st.just(Tlv(0x1400, bytes(0x10000))),
    st.builds(Tlv, st.integers(0x10000, 0x20000), st.binary(max_size=2)),
)


@st.composite
def invalid_pdus(draw: st.DrawFn, classes: tuple[type[Pdu], ...] | None = None) -> Pdu:
    """A valid PDU with one field replaced by a value the spec does not allow."""
    cls = draw(st.sampled_from(classes or tuple(PDU_CLASSES.values())))
    pdu = draw(pdus_of(cls))
    candidates = [
        f.name
        for f in dataclasses.fields(cls)
        if isinstance(getattr(pdu, f.name), str | int | tuple) or f.name == "tlvs"
    ]
    name = draw(st.sampled_from(candidates))
    current = getattr(pdu, name)
    wrong: st.SearchStrategy[Any]
    if name == "tlvs":
        wrong = _WRONG_TLVS.map(lambda bad: (bad,))
    elif name in ("schedule_delivery_time", "validity_period", "final_date"):
        wrong = st.text("0123456789", min_size=1, max_size=15)
    elif isinstance(current, bool | int):
        wrong = (
            _WRONG_INTS
            if name in ("command_status", "sequence_number")
            else st.one_of(st.integers(max_value=-1), st.integers(min_value=256))
        )
    elif isinstance(current, str):
        wrong = _WRONG_STRINGS
    elif name == "dest_addresses":
        wrong = st.just((SmeAddress(destination_addr="1"),) * 255)
    else:
        wrong = st.just((UnsuccessSme(),) * 256)
    return dataclasses.replace(pdu, **{name: draw(wrong)})
