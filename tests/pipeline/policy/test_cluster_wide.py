"""The policy across instances: two pipelines sharing one real Redis (redis-server started
by the test), as two bridges behind HAProxy do."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis_server import RedisServer

from bridge.pdu import CommandStatus
from bridge.pipeline import Caps, DuplicateRules
from bridge.state import RedisState

from ..pipeline_doubles import Clock, Rig, accepted, rig, submit_sm
from .policy_rig import route

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with RedisServer.started() as server:
        yield server


@pytest.fixture
async def two(redis: RedisServer) -> AsyncIterator[tuple[Rig, Rig]]:
    prefix = f"policy-{uuid.uuid4().hex[:10]}"
    stores = [await RedisState.open(redis.url, key_prefix=prefix) for _ in range(2)]
    routes = [
        route(
            duplicates=DuplicateRules(mode="suppress", window_s=600.0),
            caps=Caps(daily_messages=3),
        )
    ]
    clock = Clock(T0)
    one = rig(accepted("1001"), routes=routes, state=stores[0], clock=clock)
    other = rig(accepted("2001"), routes=routes, state=stores[1], clock=clock)
    yield one, other
    for store in stores:
        await store.aclose()


async def test_a_resend_through_the_other_instance_gets_the_first_message_id(
    two: tuple[Rig, Rig],
) -> None:
    one, other = two
    first = await one.submit(submit_sm(b"Your code is 4321", sequence_number=1))
    second = await other.submit(submit_sm(b"Your code is 4321", sequence_number=2))
    assert first.message_id == second.message_id == "1001"
    assert len(one.isms.sent) == 1 and other.isms.sent == []


async def test_a_resend_through_the_other_instance_while_the_first_is_in_flight_waits(
    two: tuple[Rig, Rig],
) -> None:
    one, other = two
    one.isms.hold()
    first = asyncio.create_task(one.submit(submit_sm(b"Hi", sequence_number=1)))
    await one.isms.reached.wait()
    second = asyncio.create_task(other.submit(submit_sm(b"Hi", sequence_number=2)))
    await asyncio.sleep(0.1)
    assert not second.done()
    one.isms.release()
    assert (await first).message_id == (await second).message_id == "1001"
    assert other.isms.sent == []


async def test_a_cap_is_shared_by_two_instances(two: tuple[Rig, Rig]) -> None:
    one, other = two
    answers = []
    for index in range(5):
        r = (one, other)[index % 2]
        response = await r.submit(submit_sm(f"message {index}".encode(), sequence_number=index))
        answers.append(response.command_status)
    assert answers == [CommandStatus.ESME_ROK] * 3 + [CommandStatus.ESME_RMSGQFUL] * 2
    assert len(one.isms.sent) + len(other.isms.sent) == 3


async def test_simultaneous_submits_on_two_instances_never_pass_the_cap(
    two: tuple[Rig, Rig],
) -> None:
    one, other = two
    responses = await asyncio.gather(
        *(
            (one, other)[i % 2].submit(submit_sm(f"m{i}".encode(), sequence_number=i))
            for i in range(10)
        )
    )
    assert sum(r.command_status == CommandStatus.ESME_ROK for r in responses) == 3
