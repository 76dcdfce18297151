"""Reserved destination numbers and configured faults (the table in faults.py and README)."""

from __future__ import annotations

import random

import pytest

from bridge.upstream.sandbox import Fault, FaultKind, SandboxFaults, reserved_fault


@pytest.mark.parametrize(
    ("number", "fault"),
    [
        ("60000001004", Fault(kind=FaultKind.RESULT_CODE, value=-1004)),
        ("60000001012", Fault(kind=FaultKind.RESULT_CODE, value=-1012)),
        ("60000003001", Fault(kind=FaultKind.BARE_CODE, value=-1001)),
        ("60000002000", Fault(kind=FaultKind.BLANK_SUCCESS)),
        ("60000002001", Fault(kind=FaultKind.SUCCESS_WITHOUT_ID)),
        ("60000002002", Fault(kind=FaultKind.PADDED_SUCCESS)),
        ("60000002003", Fault(kind=FaultKind.HTML_PAGE)),
        ("60000000503", Fault(kind=FaultKind.HTTP_STATUS, value=503)),
        ("60000000500", Fault(kind=FaultKind.HTTP_STATUS, value=500)),
        ("60000000000", Fault(kind=FaultKind.DROP)),
        ("60000009015", Fault(kind=FaultKind.DELAY, seconds=1.5)),
    ],
)
def test_reserved_number_picks_its_fault(number: str, fault: Fault) -> None:
    assert reserved_fault(number) == fault


@pytest.mark.parametrize("number", ["60123456789", "6000000100", "600000010040", "60000004000"])
def test_ordinary_numbers_carry_no_fault(number: str) -> None:
    assert reserved_fault(number) is None


def test_configured_status_fault_hits_every_request_by_default() -> None:
    faults = SandboxFaults(http_status=500)
    rng = random.Random(0)
    assert all(faults.pick(rng) == Fault(kind=FaultKind.HTTP_STATUS, value=500) for _ in range(20))


def test_ratio_makes_a_configured_fault_hit_only_a_share_of_requests() -> None:
    faults = SandboxFaults(drop=True, ratio=0.25)
    rng = random.Random(7)
    hits = sum(faults.pick(rng) is not None for _ in range(2000))
    assert 400 < hits < 600


def test_latency_alone_picks_no_fault() -> None:
    assert SandboxFaults(latency_s=0.2).pick(random.Random(0)) is None


@pytest.mark.parametrize(
    "bad", [{"latency_s": -1.0}, {"http_status": 99}, {"http_status": 600}, {"ratio": 1.5}]
)
def test_impossible_fault_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SandboxFaults(**bad)  # type: ignore[arg-type]
