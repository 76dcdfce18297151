"""Account policy through the whole bridge (`Bridge`, as `serve` builds it) over loopback:
number lists and an opt-out file re-read by a reload, RM0, duplicates, a cap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from smpplib_esme import submit

from bridge.pdu import CommandStatus

from .messages_rig import MessagesRig, running

pytestmark = pytest.mark.e2e


@pytest.fixture
def rig(tmp_path: Path, run_server: Callable[..., object]) -> Iterator[MessagesRig]:
    opt_out = tmp_path / "opt-out.txt"
    opt_out.write_text("+60100000001\n", encoding="utf-8")
    account = {
        "allow_prefixes": ["60"],
        "opt_out_file": str(opt_out),
        "rm0": "insert",
        "duplicates": "suppress",
        "daily_messages": 4,
    }
    with running(tmp_path, run_server, account=account) as running_rig:
        yield running_rig


def test_the_policy_of_an_account_applies_through_the_bridge(
    rig: MessagesRig, tmp_path: Path
) -> None:
    client = rig.smpplib("transmitter")
    outside = submit(client, destination_addr="6591234567", short_message=b"Hi")
    opted_out = submit(client, destination_addr="60100000001", short_message=b"Hi")
    assert (outside.status, opted_out.status) == (
        CommandStatus.ESME_RINVDSTADR,
        CommandStatus.ESME_RSUBMITFAIL,
    )
    first = submit(client, destination_addr="60123456789", short_message=b"Code 1234")
    again = submit(client, destination_addr="60123456789", short_message=b"Code 1234")
    assert first.status == again.status == 0 and first.message_id == again.message_id
    [sent] = rig.sandbox.wait_for(1)
    assert sent["text"] == "RM0.00 Code 1234"
    # A changed opt-out file applies at the next reload (SIGHUP).
    (tmp_path / "opt-out.txt").write_text("# nobody\n", encoding="utf-8")
    rig.server.run(rig.server.root.reload)
    assert submit(client, destination_addr="60100000001", short_message=b"Hi").status == 0
    # The daily cap of 4 messages: two sent so far, then two more, then ESME_RMSGQFUL.
    answers = [
        submit(client, destination_addr="60123456789", short_message=f"m{i}".encode()).status
        for i in range(3)
    ]
    assert answers == [0, 0, CommandStatus.ESME_RMSGQFUL]
    assert len(rig.sandbox.wait_for(4)) == 4
