"""SMPP 3.4 §7.2 timers with short configured values, over real sockets."""

from __future__ import annotations

import time

import pytest
import smpplib.smpp

from bridge.pdu import BindTransceiver, EnquireLink, EnquireLinkResp, Unbind, UnbindResp

pytestmark = pytest.mark.e2e

FAST = {"response_timeout_s": 0.3}


def bound(raw_esme, server):
    esme = raw_esme(server)
    esme.send(BindTransceiver(system_id="esme1", password="secret1"))
    assert esme.read().command_status == 0
    return esme


def test_a_connection_that_never_binds_is_closed_after_session_init(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={"session_init_s": 0.3}))
    esme = raw_esme(server)
    assert esme.closed_by_peer(timeout=5)


def test_enquire_link_does_not_extend_session_init(write_config, run_server, raw_esme) -> None:
    server = run_server(write_config(smpp={"session_init_s": 0.5}))
    esme = raw_esme(server)
    deadline = time.monotonic() + 5
    with pytest.raises(AssertionError, match="closed"):
        while time.monotonic() < deadline:
            [seq] = esme.send(EnquireLink())
            assert esme.read() == EnquireLinkResp(sequence_number=seq)
            time.sleep(0.1)


def test_a_silent_bound_session_is_pinged_and_stays_up_while_it_answers(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={"enquire_link_interval_s": 0.2, **FAST}))
    esme = bound(raw_esme, server)
    for _ in range(3):
        ping = esme.read(timeout=3)
        assert isinstance(ping, EnquireLink)
        esme.send(EnquireLinkResp(sequence_number=ping.sequence_number))
    assert server.run(lambda: server.bridge.registry.count("esme1")) == 1


def test_a_session_that_does_not_answer_the_ping_is_closed_after_the_response_timer(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={"enquire_link_interval_s": 0.2, **FAST}))
    esme = bound(raw_esme, server)
    assert isinstance(esme.read(timeout=3), EnquireLink)
    assert esme.closed_by_peer(timeout=5)


def test_smpplib_answers_the_bridge_ping_and_stays_bound(
    write_config, run_server, smpplib_esme
) -> None:
    server = run_server(write_config(smpp={"enquire_link_interval_s": 0.2, **FAST}))
    client = smpplib_esme(server)
    client.bind_transceiver(system_id="esme1", password="secret1")
    client.read_once()  # the bridge's enquire_link: smpplib answers it
    # Unanswered, the session would close 0.3 s after the ping; answered, the next ping comes.
    client.read_once()
    assert server.run(lambda: server.bridge.registry.count("esme1")) == 1


def test_the_bridge_answers_enquire_link_from_smpplib(server, smpplib_esme) -> None:
    client = smpplib_esme(server)
    client.bind_transmitter(system_id="esme1", password="secret1")
    ping = smpplib.smpp.make_pdu("enquire_link", client=client)
    client.send_pdu(ping)
    resp = client.read_pdu()
    assert (resp.command, resp.sequence, resp.status) == ("enquire_link_resp", ping.sequence, 0)


def test_inactivity_unbinds_a_silent_session_and_closes_when_unbind_resp_comes(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(
        write_config(smpp={"inactivity_s": 0.3, "enquire_link_interval_s": 0, **FAST})
    )
    esme = bound(raw_esme, server)
    unbind = esme.read(timeout=3)
    assert isinstance(unbind, Unbind)
    esme.send(UnbindResp(sequence_number=unbind.sequence_number))
    assert esme.closed_by_peer(timeout=3)


def test_an_unanswered_unbind_is_followed_by_a_close_after_the_response_timer(
    write_config, run_server, smpplib_esme
) -> None:
    # smpplib never answers unbind (smpp-brief §16): the response timer closes the session.
    server = run_server(
        write_config(smpp={"inactivity_s": 0.3, "enquire_link_interval_s": 0, **FAST})
    )
    client = smpplib_esme(server)
    client.bind_transceiver(system_id="esme1", password="secret1")
    client.read_once()  # the unbind; smpplib logs it and sends nothing
    client._socket.settimeout(3)
    assert client._socket.recv(16) == b""
