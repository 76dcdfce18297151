"""Benchmark: bridge.pdu's codec against smpplib and a minimal struct codec (the ceiling).

Run: .venv/bin/python bench/codec.py [--seconds 0.1]

Prints decode and encode rates (operations per second, best of seven interleaved rounds) for a
submit_sm (160-character text, 2 TLVs) and a submit_sm_resp, for three codecs on the same
bytes: bridge.pdu (public decode/encode, i.e. the fast path), smpplib's own PDU classes, and a
minimal hand-written struct codec with no validation and no typed objects, written here as the
ceiling. Then the ratios, and the issue's target: decode+encode of submit_sm at least 3x
smpplib and at least 0.5x the ceiling. Figures only; nothing here asserts timing.
"""

from __future__ import annotations

import argparse
import platform
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import smpplib.command
import smpplib.smpp

from bridge.pdu import SubmitSm, SubmitSmResp, Tag, Tlv, decode, encode

TEXT = ("The quick brown fox jumps over the lazy dog; " * 4)[:160].encode("ascii")
SUBMIT_SM = SubmitSm(
    sequence_number=0x0001E240,
    source_addr_ton=5,
    source_addr_npi=0,
    source_addr="ISMSBRIDGE",
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="60123456789",
    registered_delivery=1,
    data_coding=0,
    short_message=TEXT,
    tlvs=(Tlv(Tag.USER_MESSAGE_REFERENCE, 4242), Tlv(Tag.SOURCE_PORT, 2948)),
)
SUBMIT_SM_RESP = SubmitSmResp(sequence_number=0x0001E240, message_id="68120712")


# --- the ceiling: minimal struct code, no validation, tuples out -----------------------------

_HEADER = struct.Struct(">IIII")
_TLV = struct.Struct(">HH")


def ceiling_decode_submit_sm(data: bytes) -> tuple[object, ...]:
    _, command_id, status, sequence = _HEADER.unpack_from(data)
    a = data.index(0, 16)
    b = data.index(0, a + 3)
    c = data.index(0, b + 3)
    d = data.index(0, c + 4)
    e = data.index(0, d + 1)
    start = e + 6
    end = start + data[e + 5]
    tlvs = []
    position = end
    while position < len(data):
        tag, length = _TLV.unpack_from(data, position)
        tlvs.append((tag, data[position + 4 : position + 4 + length]))
        position += 4 + length
    return (
        command_id, status, sequence, data[16:a], data[a + 1], data[a + 2], data[a + 3 : b],
        data[b + 1], data[b + 2], data[b + 3 : c], data[c + 1], data[c + 2], data[c + 3],
        data[c + 4 : d], data[d + 1 : e], data[e + 1], data[e + 2], data[e + 3], data[e + 4],
        data[start:end], tlvs,
    )  # fmt: skip


def ceiling_encode_submit_sm(fields: tuple[object, ...]) -> bytes:
    (command_id, status, sequence, service_type, s_ton, s_npi, source, d_ton, d_npi, dest,
     esm, pid, prio, sched, valid, reg, rep, dc, dflt, message, tlvs) = fields  # fmt: skip
    body = b"".join(
        (
            service_type, bytes((0, s_ton, s_npi)), source, bytes((0, d_ton, d_npi)), dest,
            bytes((0, esm, pid, prio)), sched, b"\x00", valid,
            bytes((0, reg, rep, dc, dflt, len(message))), message,
            *(_TLV.pack(tag, len(value)) + value for tag, value in tlvs),
        )
    )  # fmt: skip
    return _HEADER.pack(16 + len(body), command_id, status, sequence) + body


def ceiling_decode_submit_sm_resp(data: bytes) -> tuple[object, ...]:
    _, command_id, status, sequence = _HEADER.unpack_from(data)
    return command_id, status, sequence, data[16 : data.index(0, 16)]


def ceiling_encode_submit_sm_resp(fields: tuple[object, ...]) -> bytes:
    command_id, status, sequence, message_id = fields
    assert isinstance(message_id, bytes)
    return _HEADER.pack(17 + len(message_id), command_id, status, sequence) + message_id + b"\0"


# --- smpplib ---------------------------------------------------------------------------------


def smpplib_submit_sm() -> smpplib.command.SubmitSM:
    pdu = smpplib.smpp.make_pdu(
        "submit_sm",
        sequence=SUBMIT_SM.sequence_number,
        service_type="",
        source_addr_ton=5,
        source_addr_npi=0,
        source_addr="ISMSBRIDGE",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="60123456789",
        esm_class=0,
        protocol_id=0,
        priority_flag=0,
        schedule_delivery_time="",
        validity_period="",
        registered_delivery=1,
        replace_if_present_flag=0,
        data_coding=0,
        sm_default_msg_id=0,
        short_message=TEXT,
        user_message_reference=4242,
        source_port=2948,
    )
    # smpplib's constructor ignores `sequence` (its property reads the client's counter).
    pdu.sequence = SUBMIT_SM.sequence_number
    return pdu


def smpplib_decode(data: bytes) -> object:
    return smpplib.smpp.parse_pdu(data, sequence=0)


# --- timing ----------------------------------------------------------------------------------


def rates(operations: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """Operations per second for each operation: the best of seven interleaved rounds.

    Rounds alternate between the operations so that a noisy neighbour on a shared machine
    slows all of them alike, and the ratios printed below stay meaningful.
    """
    loops: dict[str, int] = {}
    for name, operation in operations.items():
        count = 1
        while True:
            started = time.perf_counter()
            for _ in range(count):
                operation()
            elapsed = time.perf_counter() - started
            if elapsed >= 0.02:
                break
            count *= 2
        loops[name] = max(1, int(count * seconds / elapsed))
    best = dict.fromkeys(operations, float("inf"))
    for _ in range(7):
        for name, operation in operations.items():
            started = time.perf_counter()
            for _ in range(loops[name]):
                operation()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: loops[name] / best[name] for name in operations}


def combined(decode_rate: float, encode_rate: float) -> float:
    """Rate of one decode followed by one encode."""
    return 1.0 / (1.0 / decode_rate + 1.0 / encode_rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.1, help="length of one timed round")
    seconds = parser.parse_args().seconds

    submit_bytes = encode(SUBMIT_SM)
    resp_bytes = encode(SUBMIT_SM_RESP)
    # The three codecs must agree on the bytes before their speed means anything.
    assert smpplib_submit_sm().generate() == submit_bytes, "smpplib builds other bytes"
    assert decode(submit_bytes) == SUBMIT_SM
    smpplib_resp = smpplib.smpp.make_pdu("submit_sm_resp", message_id="68120712")
    smpplib_resp.sequence = SUBMIT_SM_RESP.sequence_number
    assert smpplib_resp.generate() == resp_bytes, "smpplib builds another submit_sm_resp"
    assert ceiling_encode_submit_sm(ceiling_decode_submit_sm(submit_bytes)) == submit_bytes
    assert ceiling_encode_submit_sm_resp(ceiling_decode_submit_sm_resp(resp_bytes)) == resp_bytes

    submit_fields = ceiling_decode_submit_sm(submit_bytes)
    resp_fields = ceiling_decode_submit_sm_resp(resp_bytes)
    smpplib_pdu = smpplib_submit_sm()
    cases = {
        "submit_sm": {
            "bridge.pdu": (lambda: decode(submit_bytes), lambda: encode(SUBMIT_SM)),
            "smpplib": (lambda: smpplib_decode(submit_bytes), smpplib_pdu.generate),
            "struct ceiling": (
                lambda: ceiling_decode_submit_sm(submit_bytes),
                lambda: ceiling_encode_submit_sm(submit_fields),
            ),
        },
        "submit_sm_resp": {
            "bridge.pdu": (lambda: decode(resp_bytes), lambda: encode(SUBMIT_SM_RESP)),
            "smpplib": (lambda: smpplib_decode(resp_bytes), smpplib_resp.generate),
            "struct ceiling": (
                lambda: ceiling_decode_submit_sm_resp(resp_bytes),
                lambda: ceiling_encode_submit_sm_resp(resp_fields),
            ),
        },
    }

    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"submit_sm {len(submit_bytes)} octets, submit_sm_resp {len(resp_bytes)} octets\n")
    header = f"{'PDU':<15} {'codec':<15} {'decode/s':>11} {'encode/s':>11} {'both/s':>11}"
    print(header)
    print("-" * len(header))
    operations = {
        (pdu_name, codec_name, direction): operation
        for pdu_name, codecs in cases.items()
        for codec_name, pair in codecs.items()
        for direction, operation in zip(("decode", "encode"), pair, strict=True)
    }
    measured = rates({"/".join(key): op for key, op in operations.items()}, seconds)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    for pdu_name, codecs in cases.items():
        results[pdu_name] = {}
        for codec_name in codecs:
            d = measured[f"{pdu_name}/{codec_name}/decode"]
            e = measured[f"{pdu_name}/{codec_name}/encode"]
            results[pdu_name][codec_name] = (d, e, combined(d, e))
            print(
                f"{pdu_name:<15} {codec_name:<15} {d:>11,.0f} {e:>11,.0f} {combined(d, e):>11,.0f}"
            )
    print()
    for pdu_name, by_codec in results.items():
        ours = by_codec["bridge.pdu"]
        for baseline in ("smpplib", "struct ceiling"):
            theirs = by_codec[baseline]
            ratios = "  ".join(
                f"{label} {mine / other:5.2f}x"
                for label, mine, other in zip(
                    ("decode", "encode", "both"), ours, theirs, strict=True
                )
            )
            print(f"{pdu_name:<15} bridge.pdu / {baseline:<15} {ratios}")
    both = results["submit_sm"]
    vs_smpplib = both["bridge.pdu"][2] / both["smpplib"][2]
    vs_ceiling = both["bridge.pdu"][2] / both["struct ceiling"][2]
    print(
        f"\ntarget, submit_sm decode+encode: >= 3x smpplib (got {vs_smpplib:.2f}x, "
        f"{'met' if vs_smpplib >= 3 else 'NOT met'}), >= 0.5x ceiling (got {vs_ceiling:.2f}x, "
        f"{'met' if vs_ceiling >= 0.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
