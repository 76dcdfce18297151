"""Every bind outcome over real sockets, with smpplib as the ESME (SMPP 3.4 §4.1)."""

from __future__ import annotations

import socket
import ssl
import time
from pathlib import Path

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions

from bridge.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    CommandStatus,
    EnquireLink,
    EnquireLinkResp,
    Tag,
)

pytestmark = pytest.mark.e2e

BOUND = {
    "bind_transmitter": smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
    "bind_receiver": smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
    "bind_transceiver": smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
}


def refused_status(client: smpplib.client.Client, bind: str, **credentials: str) -> int:
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        getattr(client, bind)(**credentials)
    return int(refused.value.args[1])


@pytest.mark.parametrize("bind", ["bind_transmitter", "bind_receiver", "bind_transceiver"])
def test_each_bind_type_is_accepted(server, smpplib_esme, bind: str) -> None:
    client = smpplib_esme(server)
    getattr(client, bind)(system_id="esme1", password="secret1")
    assert client.state == BOUND[bind]
    assert server.run(lambda: server.bridge.registry.count("esme1")) == 1


def test_bind_resp_names_the_bridge_and_its_interface_version(server, raw_esme) -> None:
    esme = raw_esme(server)
    [seq] = esme.send(BindTransceiver(system_id="esme1", password="secret1"))
    resp = esme.read()
    assert isinstance(resp, BindTransceiverResp)
    assert (resp.sequence_number, resp.command_status, resp.system_id) == (seq, 0, "isms-bridge")
    assert resp.tlv(Tag.SC_INTERFACE_VERSION) == 0x34


def test_an_smpp_33_esme_gets_no_sc_interface_version(server, raw_esme) -> None:
    esme = raw_esme(server)
    esme.send(BindTransmitter(system_id="esme1", password="secret1", interface_version=0x33))
    resp = esme.read()
    assert resp.command_status == 0 and resp.tlvs == ()


def test_an_unknown_system_id_is_refused_rinvsysid_then_closed(server, smpplib_esme) -> None:
    client = smpplib_esme(server)
    status = refused_status(client, "bind_transceiver", system_id="ghost", password="secret1")
    assert status == CommandStatus.ESME_RINVSYSID
    assert closed_soon(client._socket)


def test_a_wrong_password_is_refused_rinvpaswd_then_closed(server, smpplib_esme) -> None:
    client = smpplib_esme(server)
    status = refused_status(client, "bind_transmitter", system_id="esme1", password="guess")
    assert status == CommandStatus.ESME_RINVPASWD
    assert closed_soon(client._socket)


def test_an_address_outside_allowed_ips_is_refused_rbindfail_then_closed(
    write_config, run_server, smpplib_esme
) -> None:
    server = run_server(write_config(accounts=[{"allowed_ips": ["10.0.0.0/8"]}]))
    client = smpplib_esme(server)
    status = refused_status(client, "bind_transceiver", system_id="esme1", password="secret1")
    assert status == CommandStatus.ESME_RBINDFAIL
    assert closed_soon(client._socket)


def test_a_bind_type_the_account_may_not_use_is_refused_rbindfail(
    write_config, run_server, smpplib_esme
) -> None:
    server = run_server(write_config(accounts=[{"bind_types": ["transmitter"]}]))
    client = smpplib_esme(server)
    status = refused_status(client, "bind_receiver", system_id="esme1", password="secret1")
    assert status == CommandStatus.ESME_RBINDFAIL
    assert closed_soon(client._socket)


def test_a_bind_over_max_binds_is_refused_rbindfail_and_the_first_stays_up(
    write_config, run_server, smpplib_esme, raw_esme
) -> None:
    server = run_server(write_config(accounts=[{"max_binds": 1}]))
    first = raw_esme(server)
    first.send(BindTransceiver(system_id="esme1", password="secret1"))
    assert first.read().command_status == 0
    second = smpplib_esme(server)
    status = refused_status(second, "bind_transmitter", system_id="esme1", password="secret1")
    assert status == CommandStatus.ESME_RBINDFAIL
    assert closed_soon(second._socket)
    [seq] = first.send(EnquireLink())
    assert first.read() == EnquireLinkResp(sequence_number=seq)


def test_the_refused_connection_stays_open_for_the_configured_delay(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={"bind_failure_delay_s": 0.5}))
    esme = raw_esme(server)
    esme.send(BindReceiver(system_id="esme1", password="guess"))
    assert esme.read().command_status == CommandStatus.ESME_RINVPASWD
    started = time.monotonic()
    assert esme.closed_by_peer(timeout=5)
    assert time.monotonic() - started >= 0.4  # a lower bound only: delays only add


def test_repeated_failures_from_one_address_are_answered_more_slowly(
    write_config, run_server, raw_esme
) -> None:
    server = run_server(write_config(smpp={"auth_slowdown_s": 0.3, "bind_failure_delay_s": 0}))
    waits = []
    for _ in range(2):
        esme = raw_esme(server)
        started = time.monotonic()
        esme.send(BindTransmitter(system_id="esme1", password="guess"))
        assert esme.read().command_status == CommandStatus.ESME_RINVPASWD
        waits.append(time.monotonic() - started)
    assert waits[0] >= 0.25 and waits[1] >= 0.55  # 0.3 s, then doubled


def test_a_bind_over_tls_is_accepted(
    write_config, run_server, smpplib_esme, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server = run_server(write_config(tls={"port": 0, "cert_file": cert, "key_file": key}))
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # smpplib wraps the socket without a server_hostname
    client = smpplib_esme(server, port=server.tls_port, ssl_context=context)
    client.bind_transceiver(system_id="esme1", password="secret1")
    assert client.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX
    sessions = server.run(lambda: server.bridge.registry.sessions("esme1"))
    assert [session.context.tls for session in sessions] == [True]


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_the_tls_listener_refuses_tls_1_1(
    write_config, run_server, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server = run_server(write_config(tls={"port": 0, "cert_file": cert, "key_file": key}))

    def handshake(version: ssl.TLSVersion) -> str:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        context.minimum_version = context.maximum_version = version
        with socket.create_connection(("127.0.0.1", server.tls_port), timeout=5) as raw:
            return str(context.wrap_socket(raw).version())

    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"  # the same client, one version up
    with pytest.raises(ssl.SSLError):
        handshake(ssl.TLSVersion.TLSv1_1)


def test_the_plain_port_is_served_on_ipv4_and_ipv6(write_config, run_server, raw_esme) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = run_server(write_config(smpp={"host": ["127.0.0.1", "::1"], "port": 0}))
    ports = dict(server.bridge.server.addresses)
    for host in ("127.0.0.1", "::1"):
        esme = raw_esme(server, host=host, port=ports[host])
        esme.send(BindTransceiver(system_id="esme1", password="secret1"))
        assert esme.read().command_status == 0


def closed_soon(sock: socket.socket, timeout: float = 3.0) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True
