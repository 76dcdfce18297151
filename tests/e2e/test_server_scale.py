"""1,000 ESMEs binding at the same time, over real sockets (raw asyncio clients)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from bridge.pdu import BindTransceiver, encode

pytestmark = pytest.mark.e2e

SESSIONS = 1000
HEADER = struct.Struct(">IIII")


async def bind_one(port: int, gate: asyncio.Semaphore) -> tuple[int, asyncio.StreamWriter]:
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            encode(BindTransceiver(system_id="esme1", password="secret1", sequence_number=2))
        )
        header = await asyncio.wait_for(reader.readexactly(16), 30)
        length, command_id, status, sequence_number = HEADER.unpack(header)
        await reader.readexactly(length - 16)
        assert (command_id, sequence_number) == (0x80000009, 2)
        return status, writer


async def test_a_thousand_concurrent_binds_are_all_accepted(write_config, run_server) -> None:
    # All from 127.0.0.1 and all unbound at first: both caps are lifted for this test.
    caps = {"max_connections_per_address": SESSIONS, "max_unbound_connections": SESSIONS}
    server = run_server(write_config(smpp=caps, accounts=[{"max_binds": SESSIONS}]))
    # At most 200 connects in flight, so the listen backlog is not the thing under test.
    gate = asyncio.Semaphore(200)
    results = await asyncio.gather(*(bind_one(server.port, gate) for _ in range(SESSIONS)))
    try:
        assert [status for status, _writer in results] == [0] * SESSIONS
        assert server.run(lambda: server.bridge.registry.count("esme1")) == SESSIONS
    finally:
        for _status, writer in results:
            writer.close()
