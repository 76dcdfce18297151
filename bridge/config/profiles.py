"""ESME profiles: per-account defaults for what a known SMPP client needs from the bridge.

`profile = "kannel"` on an `[[accounts]]` table sets that account's `dc0`, `dc1` and
`report_delivered` to what Kannel needs; a key the table sets itself still wins. Each profile
holds only what its client does on the wire (README "ESME compatibility" has the client-side
settings and the sources):

- kannel: Kannel reads a receipt's `message_state` 6 (ACCEPTED) and `stat:ACCEPTD` as
  DLR_BUFFERED (type 4), an intermediate state, and keeps waiting for a final one; only
  DELIVERED / DELIVRD is final success. iSMS reports acceptance only, so without
  `report_delivered` a Kannel never gets a final receipt and its DLR store grows for ever.
- node-smpp: with no data_coding given it encodes with its GSM 03.38 table and labels the
  octets data_coding 1 (IA5), so 1 must be read as GSM 7-bit.
- smpplib, cloudhopper, jsmpp, generic: the defaults are right (GSM 03.38 under 0, ASCII
  under 1, receipts ACCEPTD).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.pipeline import DefaultAlphabet, Ia5Alphabet

# Kannel's smsc-smpp binds with system_type "VMA" unless its smsc group sets system-type.
KANNEL_SYSTEM_TYPE = "VMA"


@dataclass(frozen=True, slots=True, kw_only=True)
class EsmeProfile:
    """What an account of this client defaults to, and why (for check-config)."""

    name: str
    dc0: DefaultAlphabet = "gsm7"
    dc1: Ia5Alphabet = "ascii"
    report_delivered: bool = False
    why: str


GENERIC = EsmeProfile(name="generic", why="SMPP 3.4 defaults")
PROFILES: dict[str, EsmeProfile] = {
    profile.name: profile
    for profile in (
        GENERIC,
        EsmeProfile(
            name="kannel",
            report_delivered=True,
            why=(
                "receipts say DELIVRD: Kannel takes ACCEPTD for an intermediate state "
                "(DLR type 4) and never sees a final one otherwise"
            ),
        ),
        EsmeProfile(name="smpplib", why="the defaults: make_parts sends GSM 03.38 under 0"),
        EsmeProfile(
            name="node-smpp",
            dc1="gsm7",
            why="data_coding 1 read as GSM 03.38: node-smpp labels its GSM octets 1",
        ),
        EsmeProfile(name="cloudhopper", why="the defaults (the application encodes the text)"),
        EsmeProfile(name="jsmpp", why="the defaults (the application encodes the text)"),
    )
}
