"""The construct declarations match the dataclasses and SMPP 3.4's C-Octet String maxima."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bridge.pdu import (
    PDU_CLASSES,
    AlertNotification,
    BindReceiverResp,
    BindTransceiver,
    CancelSm,
    DataSm,
    DataSmResp,
    Outbind,
    Pdu,
    PduError,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    encode,
)
from bridge.pdu.field_types import OptionalBody
from bridge.pdu.layout import BODIES

# SMPP 3.4 §4, written out from the spec (maxima include the NUL).
SPEC_MAXIMA: list[tuple[type[Pdu], str, int]] = [
    (BindTransceiver, "system_id", 16),
    (BindTransceiver, "password", 9),
    (BindTransceiver, "system_type", 13),
    (BindTransceiver, "address_range", 41),
    (BindReceiverResp, "system_id", 16),
    (Outbind, "system_id", 16),
    (Outbind, "password", 9),
    (SubmitSm, "service_type", 6),
    (SubmitSm, "source_addr", 21),
    (SubmitSm, "destination_addr", 21),
    (SubmitMulti, "source_addr", 21),
    (SubmitMultiResp, "message_id", 65),
    (DataSm, "source_addr", 65),
    (DataSm, "destination_addr", 65),
    (DataSmResp, "message_id", 65),
    (QuerySm, "message_id", 65),
    (QuerySm, "source_addr", 21),
    (QuerySmResp, "message_id", 65),
    (CancelSm, "message_id", 65),
    (CancelSm, "destination_addr", 21),
    (ReplaceSm, "message_id", 65),
    (ReplaceSm, "source_addr", 21),
    (AlertNotification, "source_addr", 65),
    (AlertNotification, "esme_addr", 65),
]


def _declared_names(layout: Any) -> list[str]:
    struct = layout.subcon if isinstance(layout, OptionalBody) else layout
    return [subcon.name for subcon in struct.subcons]


@pytest.mark.parametrize("command_id", sorted(BODIES), ids=lambda c: f"0x{c:08x}")
def test_each_body_declares_the_dataclass_fields_in_spec_order_with_tlvs_last(
    command_id: int,
) -> None:
    cls = PDU_CLASSES[command_id]
    fields = [f.name for f in dataclasses.fields(cls)]
    body = [name for name in fields if name not in ("command_status", "sequence_number")]
    declared = _declared_names(BODIES[command_id])
    assert set(declared) == set(body)
    if "tlvs" in declared:
        assert declared[-1] == "tlvs"
    assert [n for n in declared if n != "tlvs"] == [n for n in body if n != "tlvs"]


def test_every_command_has_a_body_declaration() -> None:
    assert set(BODIES) == set(PDU_CLASSES)


@pytest.mark.parametrize(
    ("cls", "field", "maximum"), SPEC_MAXIMA, ids=lambda x: getattr(x, "__name__", str(x))
)
def test_a_c_octet_string_holds_its_maximum_minus_the_nul_and_not_one_more(
    cls: type[Pdu], field: str, maximum: int
) -> None:
    fits = dataclasses.replace(cls(), **{field: "x" * (maximum - 1)})
    assert len(encode(fits)) > 16
    with pytest.raises(PduError) as caught:
        encode(dataclasses.replace(cls(), **{field: "x" * maximum}))
    assert caught.value.field == field
