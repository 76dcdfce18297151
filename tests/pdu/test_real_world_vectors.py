"""All 127 real-world PDUs in ../shared/vectors/vectors.json, each with a stated outcome.

Each vector either round-trips byte for byte, or decodes with a documented tolerance, or
raises PduError with a given status. The expectation is derived from the vector's `quirks`
(QUIRK_OUTCOMES: every quirk the file uses has a decision; a new one fails the test until
someone decides) and, for every vector that does not round-trip, also listed by hex prefix
with its reason (NOT_ROUND_TRIPPING), so a change of policy shows up in two places.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from real_parts import shared_vectors, vectors_absent

from bridge.pdu import (
    ESME_RINVCMDLEN,
    ESME_RINVMSGLEN,
    ESME_RINVOPTPARSTREAM,
    PduError,
    decode,
    decode_reference,
    encode,
)

RECORDS = shared_vectors("vectors.json")
# Without the file, each test still runs once (on this placeholder) and is skipped by the
# fixture below, or failed under CI=true: an absent folder can never pass as "0 vectors".
ABSENT: dict[str, Any] = {"command": "absent", "hex": "", "quirks": []}


@pytest.fixture(autouse=True)
def _vectors_present() -> None:
    if not RECORDS:
        vectors_absent("vectors.json")


ROUND_TRIP = "round-trip"
TOLERATED = "tolerated"  # decodes; re-encoding gives the canonical form, not the same octets

# quirk (regex, from the README's list) -> outcome. Order of strength: error > tolerated.
QUIRK_OUTCOMES: list[tuple[str, str | int]] = [
    # Unambiguous values 3.4 does not define: kept as they are.
    (r"non-zero command_status but body present", ROUND_TRIP),
    (r"command_status 0x[0-9a-f]+ not defined in SMPP 3\.4", ROUND_TRIP),
    (r"sequence_number 0$", ROUND_TRIP),
    (r"sequence_number 0x[0-9a-f]+ above 0x7FFFFFFF", ROUND_TRIP),
    (r"non-standard TLV tag 0x[0-9a-f]{4}", ROUND_TRIP),
    (r"interface_version 0x[0-9a-f]{2} \(not 0x34\)", ROUND_TRIP),
    # The codec does not read UDHs or police which TLV goes in which PDU: the pipeline does.
    (r"UDHI set but short_message has no valid UDH", ROUND_TRIP),
    (r"sc_interface_version TLV inside deliver_sm", ROUND_TRIP),
    # Zero octets too short for a TLV header are padding (a stray NUL after the message).
    (r"\d trailing byte\(s\) that cannot form a TLV: (00)+$", TOLERATED),
    # Guesses we refuse to make.
    (r"message_id: no terminating NUL", ESME_RINVCMDLEN),
    (r"TLV 0x[0-9a-f]{4} declares length \d+ but only \d+ byte\(s\) remain", ESME_RINVOPTPARSTREAM),
    (r"short_message: declared \d+ octets but only \d+ remain", ESME_RINVMSGLEN),
]

NOT_ROUND_TRIPPING: dict[str, tuple[str | int, str]] = {
    "0000001180000004000000000a342ee139": (
        ESME_RINVCMDLEN,
        "message_id runs into the end of the PDU without its NUL: maybe a cut-off id",
    ),
    "000000a4000000050000000000000005": (
        ESME_RINVOPTPARSTREAM,
        "Netfors SMSC: receipted_message_id declares 65 octets, 5 are there",
    ),
    "00000039000000050000000000000001": (
        ESME_RINVMSGLEN,
        "Nextel MX: sm_length 16 with 8 octets of message; which 8 are missing is a guess",
    ),
    "0000003c00000004": (
        TOLERATED,
        "larvitsmpp: a stray NUL after short_message, dropped as padding",
    ),
}


def _expected(record: dict[str, Any]) -> str | int:
    outcomes: list[str | int] = []
    for quirk in record["quirks"]:
        matches = [outcome for pattern, outcome in QUIRK_OUTCOMES if re.search(pattern, quirk)]
        assert matches, f"no decision for quirk {quirk!r}: add it to QUIRK_OUTCOMES"
        outcomes.extend(matches)
    errors = [outcome for outcome in outcomes if isinstance(outcome, int)]
    if errors:
        return errors[0]
    return TOLERATED if TOLERATED in outcomes else ROUND_TRIP


def _label(record: dict[str, Any]) -> str:
    return f"{record['command']}-{record['hex'][:32]}"


def test_all_127_vectors_are_there() -> None:
    assert len(RECORDS) == 127


@pytest.mark.parametrize("record", RECORDS or [ABSENT], ids=_label)
def test_real_world_vector_meets_its_expectation(record: dict[str, Any]) -> None:
    octets = bytes.fromhex(record["hex"])
    expected = _expected(record)
    listed = [v for prefix, v in NOT_ROUND_TRIPPING.items() if record["hex"].startswith(prefix)]
    if expected != ROUND_TRIP:
        assert [outcome for outcome, _reason in listed] == [expected]
    if isinstance(expected, int):
        with pytest.raises(PduError) as caught:
            decode(octets)
        assert caught.value.command_status == expected
        assert caught.value.in_sync
        return
    pdu = decode(octets)
    assert pdu.command_id == int(octets[4:8].hex(), 16)
    if expected == ROUND_TRIP:
        assert encode(pdu).hex() == record["hex"]
    else:
        reencoded = encode(pdu)
        assert decode(reencoded) == pdu
        assert len(reencoded) < len(octets)


@pytest.mark.parametrize("record", RECORDS or [ABSENT], ids=_label)
def test_both_codec_paths_agree_on_real_world_vector(record: dict[str, Any]) -> None:
    octets = bytes.fromhex(record["hex"])
    try:
        fast = decode(octets)
    except PduError as error:
        with pytest.raises(PduError) as caught:
            decode_reference(octets)
        assert caught.value.command_status == error.command_status
        return
    assert decode_reference(octets) == fast


def test_every_listed_exception_names_exactly_one_vector() -> None:
    for prefix in NOT_ROUND_TRIPPING:
        assert sum(record["hex"].startswith(prefix) for record in RECORDS) == 1, prefix


def test_all_but_four_real_world_vectors_round_trip_byte_for_byte() -> None:
    outcomes = [_expected(record) for record in RECORDS]
    assert outcomes.count(ROUND_TRIP) == 123
    assert outcomes.count(TOLERATED) == 1
