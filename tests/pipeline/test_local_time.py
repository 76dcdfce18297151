"""LocalTime: the pipeline's wall clock, seconds for records and local dates for receipts."""

from __future__ import annotations

import time
from datetime import datetime

from bridge.pipeline.upkeep import LocalTime


def test_now_is_unix_seconds() -> None:
    before = time.time()
    now = LocalTime().now()
    assert before <= now <= time.time()


def test_local_is_the_same_instant_in_this_machines_zone() -> None:
    clock = LocalTime()
    at = 1_796_000_000.25
    local = clock.local(at)
    assert local.tzinfo is not None
    assert local.timestamp() == at
    assert local.utcoffset() == datetime.fromtimestamp(at).astimezone().utcoffset()


def test_a_date_before_the_zone_was_looked_up_is_still_local() -> None:
    # A receipt's submit date is older than the moment the zone was last looked up.
    clock = LocalTime()
    clock.local(time.time())
    earlier = round(time.time()) - 3600.0  # whole seconds: datetimes keep microseconds
    assert clock.local(earlier).timestamp() == earlier
