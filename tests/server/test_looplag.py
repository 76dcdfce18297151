"""LoopLagSampler: how late the event loop runs a due timer, sampled and reported."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bridge.server.looplag import LoopLagSampler

from .server_doubles import until


async def test_an_idle_loop_reports_samples_near_zero() -> None:
    samples: list[float] = []
    sampler = LoopLagSampler(asyncio.get_running_loop(), 0.01, samples.append)
    sampler.start()
    await until(lambda: len(samples) >= 3)
    sampler.stop()
    assert all(0.0 <= lag < 0.5 for lag in samples)  # loose: a shared machine is noisy


async def test_a_callback_that_holds_the_loop_shows_as_lag_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    samples: list[float] = []
    loop = asyncio.get_running_loop()
    sampler = LoopLagSampler(loop, 0.01, samples.append)
    sampler.start()
    with caplog.at_level(logging.WARNING, logger="bridge.server.looplag"):
        loop.call_soon(time.sleep, 0.3)  # a stall, as a blocking call in a callback makes one
        await until(lambda: any(lag >= 0.25 for lag in samples))
    sampler.stop()
    assert sampler.worst_s >= 0.25
    assert "event=loop_lag lag_s=" in caplog.text


async def test_a_stopped_sampler_reports_nothing_more() -> None:
    samples: list[float] = []
    sampler = LoopLagSampler(asyncio.get_running_loop(), 0.01, samples.append)
    sampler.start()
    sampler.stop()
    await asyncio.sleep(0.05)
    assert samples == [] and not sampler.running


def test_a_sampling_interval_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 0"):
        LoopLagSampler(asyncio.new_event_loop(), 0.0, print)
