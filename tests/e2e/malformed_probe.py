"""The probe ESME of the mixed-traffic day (test_mixed_traffic.py): rounds of malformed PDUs
on plain sockets, each written down with the answer the spec says it gets and the one it got.

The malformed bytes are built by hand from SMPP 3.4 (§4.4.1 field order, §5.1.2 command_ids, §5.1.3
statuses), not by bridge.pdu, so the codec under test does not judge its own input.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Sequence

from bridge.pdu import BindTransceiver, EnquireLink, Pdu, SubmitSm

from .loopback import RawEsme
from .mixed_traffic_actors import HOST, ORDINARY_NUMBER, Actor, Schedule

SUBMIT_SM = 0x00000004
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
UNKNOWN_COMMAND = 0x00000077  # reserved, no PDU has it
GENERIC_NACK = 0x80000000
SUBMIT_SM_RESP = 0x80000004
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVSRCADR = 0x0A


def submit_sm_bytes(sequence_number: int, *, source_addr: bytes, sm_length: int) -> bytes:
    """A submit_sm built by hand (SMPP 3.4 §4.4.1, fields in order), `short_message` b"hello",
    so a test can make one field wrong: a source_addr with no NUL in its 21 octets, or an
    sm_length that runs past the end of the PDU."""
    body = b"".join(
        [
            b"\x00",  # service_type ""
            b"\x00\x00" + source_addr + b"\x00",  # source_addr_ton, _npi, source_addr
            b"\x01\x01" + ORDINARY_NUMBER.encode() + b"\x00",  # dest ton, npi, destination
            b"\x00\x00\x00",  # esm_class, protocol_id, priority_flag
            b"\x00\x00",  # schedule_delivery_time "", validity_period ""
            b"\x00\x00\x00\x00",  # registered_delivery, replace_if_present, dc, default_msg_id
            bytes([sm_length]) + b"hello",
        ]
    )
    return struct.pack(">IIII", 16 + len(body), SUBMIT_SM, 0, sequence_number) + body


@dataclasses.dataclass(frozen=True)
class Exchange:
    """One malformed (or follow-up) PDU: what the spec says comes back, and what did."""

    case: str
    expected: tuple[object, ...]
    got: tuple[object, ...]


def header(pdu: Pdu) -> tuple[object, ...]:
    return (pdu.command_id, pdu.command_status, pdu.sequence_number)


class MalformedProbe(Actor):
    """At each of `rounds_at` (seconds after the start), one round of malformed PDUs."""

    def __init__(
        self,
        port: int,
        schedule: Schedule,
        *,
        system_id: str,
        password: str,
        rounds_at: Sequence[float],
    ) -> None:
        super().__init__("probe")
        self._port = port
        self._schedule = schedule
        self._system_id = system_id
        self._password = password
        self._rounds_at = rounds_at
        self.exchanges: list[Exchange] = []

    def act(self) -> None:
        for offset in self._rounds_at:
            self._schedule.wait_until(offset)
            self._framing_kept()
            self._framing_lost(bound=True, command_length=8)
            self._framing_lost(bound=False, command_length=0x7FFFFFFF)

    def _connect(self, *, bound: bool) -> RawEsme:
        esme = RawEsme(HOST, self._port)
        if bound:
            esme.send(BindTransceiver(system_id=self._system_id, password=self._password))
            answer = esme.read()
            if answer.command_status != 0:
                esme.close()
                raise AssertionError(f"the probe's bind was answered {answer}")
            self.bound.set()
        return esme

    def _record(self, case: str, expected: tuple[object, ...], got: tuple[object, ...]) -> None:
        self.exchanges.append(Exchange(case=case, expected=expected, got=got))

    def _framing_kept(self) -> None:
        """Errors SMPP can answer and go on from: each gets its own answer, and the same
        session then answers an enquire_link and a good submit_sm."""
        esme = self._connect(bound=True)
        try:
            esme.send_bytes(struct.pack(">IIII", 16, UNKNOWN_COMMAND, 0, 41))
            expected = (GENERIC_NACK, ESME_RINVCMDID, 41)
            self._record("unknown command_id", expected, header(esme.read()))
            esme.send_bytes(submit_sm_bytes(42, source_addr=b"A" * 25, sm_length=5))
            expected = (SUBMIT_SM_RESP, ESME_RINVSRCADR, 42)
            self._record(
                "submit_sm source_addr with no NUL in 21 octets", expected, header(esme.read())
            )
            esme.send_bytes(submit_sm_bytes(43, source_addr=b"MyBrand", sm_length=200))
            expected = (SUBMIT_SM_RESP, ESME_RINVMSGLEN, 43)
            self._record("submit_sm sm_length past the end", expected, header(esme.read()))
            esme.send(EnquireLink(sequence_number=44))
            expected = (ENQUIRE_LINK_RESP, ESME_ROK, 44)
            self._record("an enquire_link after them", expected, header(esme.read()))
            # Its status is the upstream's business (the shops' test judges that); here it
            # shows the session still takes a submit_sm through to its answer.
            esme.send(
                SubmitSm(
                    sequence_number=45,
                    source_addr="MyBrand",
                    destination_addr=ORDINARY_NUMBER,
                    short_message=b"after the bad ones",
                )
            )
            answer = esme.read()
            expected = (SUBMIT_SM_RESP, 45)
            self._record("a good submit_sm after them", expected, header(answer)[::2])
        finally:
            esme.close()

    def _framing_lost(self, *, bound: bool, command_length: int) -> None:
        """command_length below 16 or past any maximum: generic_nack, then the close."""
        esme = self._connect(bound=bound)
        try:
            esme.send_bytes(struct.pack(">IIII", command_length, ENQUIRE_LINK, 0, 9))
            answer = esme.read()
            got = (answer.command_id, answer.command_status, esme.closed_by_peer())
            case = f"command_length {command_length} ({'bound' if bound else 'not bound'})"
            self._record(case, (GENERIC_NACK, ESME_RINVCMDLEN, True), got)
        finally:
            esme.close()
