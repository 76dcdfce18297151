"""Routes with a policy, for the pipeline's policy tests (built on pipeline_doubles)."""

from __future__ import annotations

from typing import Any

from bridge.pdu import SmeAddress, SubmitMulti
from bridge.pipeline import AccountPolicy, AccountRoute

from ..pipeline_doubles import CREDENTIALS


def route(system_id: str = "esme1", **policy: Any) -> AccountRoute:
    return AccountRoute(
        system_id=system_id, credentials=CREDENTIALS, policy=AccountPolicy(**policy)
    )


def sme(address: str) -> SmeAddress:
    return SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=address)


def submit_multi(*numbers: str, short_message: bytes = b"To all of you") -> SubmitMulti:
    return SubmitMulti(
        sequence_number=11,
        source_addr="MyBrand",
        dest_addresses=tuple(sme(n) for n in numbers),
        short_message=short_message,
    )
