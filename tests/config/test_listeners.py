"""`[smpp]`, `[smpp.tls]` and `[metrics]`: listeners and session rules, each key checked."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.config import BridgeConfig, ConfigError, MetricsConfig, SmppConfig, TlsConfig

LoadConfig = Callable[..., BridgeConfig]
ConfigFailure = Callable[..., ConfigError]


def make_certificate(directory: Path, name: str = "bridge") -> tuple[Path, Path]:
    """A self-signed certificate and its key, made here so no key material is committed."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_an_absent_smpp_section_means_every_documented_default(load: LoadConfig) -> None:
    config = load()
    assert config.smpp == SmppConfig()
    assert config.smpp.hosts == ("127.0.0.1",)
    assert config.smpp.host == "127.0.0.1"
    assert (config.smpp.port, config.smpp.window, config.smpp.system_id) == (
        2775,
        100,
        "isms-bridge",
    )
    assert config.smpp.tls is None
    assert config.metrics == MetricsConfig(host="127.0.0.1", port=9102)


def test_every_smpp_key_is_read(load: LoadConfig) -> None:
    smpp = load(
        """
        [smpp]
        host = "::1"
        port = 12775
        system_id = "gw1"
        window = 10
        max_pdu_size = 4096
        session_init_s = 5
        inactivity_s = 0
        enquire_link_interval_s = 15.5
        response_timeout_s = 3
        bind_failure_delay_s = 0.2
        auth_slowdown_s = 0.5
        auth_slowdown_max_s = 8
        auth_slowdown_halflife_s = 120
        auth_slowdown_max_addresses = 50
        shutdown_timeout_s = 12
        max_unknown_commands = 0
        max_connections = 100
        max_connections_per_address = 10
        max_unbound_connections = 20
        log_bodies = true
        """
    ).smpp
    assert smpp == SmppConfig(
        hosts=("::1",),
        port=12775,
        system_id="gw1",
        window=10,
        max_pdu_size=4096,
        session_init_s=5.0,
        inactivity_s=0.0,
        enquire_link_interval_s=15.5,
        response_timeout_s=3.0,
        bind_failure_delay_s=0.2,
        auth_slowdown_s=0.5,
        auth_slowdown_max_s=8.0,
        auth_slowdown_halflife_s=120.0,
        auth_slowdown_max_addresses=50,
        shutdown_timeout_s=12.0,
        max_unknown_commands=0,
        max_connections=100,
        max_connections_per_address=10,
        max_unbound_connections=20,
        log_bodies=True,
    )


def test_a_host_list_listens_on_ipv4_and_ipv6(load: LoadConfig) -> None:
    assert load('[smpp]\nhost = ["0.0.0.0", "::"]').smpp.hosts == ("0.0.0.0", "::")


def test_a_host_name_is_accepted_as_a_host(load: LoadConfig) -> None:
    assert load('[smpp]\nhost = "localhost"').smpp.hosts == ("localhost",)


@pytest.mark.parametrize("host", ["[::1]", "not a host", "", "-bad-.example"])
def test_a_host_that_is_neither_an_address_nor_a_name_is_refused(
    failure: ConfigFailure, host: str
) -> None:
    error = failure(f'[smpp]\nhost = "{host}"')
    assert error.key == "smpp.host"


def test_the_same_host_listed_twice_is_refused(failure: ConfigFailure) -> None:
    assert failure('[smpp]\nhost = ["::1", "::1"]').key == "smpp.host"


@pytest.mark.parametrize("port", [-1, 65_536, 100_000])
def test_a_port_out_of_range_is_refused(failure: ConfigFailure, port: int) -> None:
    error = failure(f"[smpp]\nport = {port}")
    assert error.key == "smpp.port"
    assert "65535" in error.expected or "at least 0" in error.expected


def test_port_0_asks_the_system_for_a_free_port(load: LoadConfig) -> None:
    assert load("[smpp]\nport = 0").smpp.port == 0


def test_a_port_given_as_a_string_is_refused_with_what_was_found(failure: ConfigFailure) -> None:
    error = failure('[smpp]\nport = "2775"')
    assert error.key == "smpp.port"
    assert "expected an integer, got the string '2775'" in error.expected


def test_a_bridge_system_id_over_15_characters_is_refused(failure: ConfigFailure) -> None:
    error = failure('[smpp]\nsystem_id = "a-very-long-bridge-id"')
    assert error.key == "smpp.system_id"
    assert "15" in error.expected


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("window = 0", "smpp.window"),
        ("max_pdu_size = 100", "smpp.max_pdu_size"),
        ("session_init_s = 0", "smpp.session_init_s"),
        ("response_timeout_s = -1", "smpp.response_timeout_s"),
        ("inactivity_s = -5", "smpp.inactivity_s"),
        ("session_init_s = 30000000", "smpp.session_init_s"),
        ("max_connections = 0", "smpp.max_connections"),
        ("max_connections_per_address = 0", "smpp.max_connections_per_address"),
        ("max_unbound_connections = 0", "smpp.max_unbound_connections"),
        ("log_bodies = 1", "smpp.log_bodies"),
        ("shutdown_timeout_s = inf", "smpp.shutdown_timeout_s"),
    ],
)
def test_a_session_setting_out_of_range_is_refused_by_name(
    failure: ConfigFailure, line: str, key: str
) -> None:
    assert failure(f"[smpp]\n{line}").key == key


def test_a_slowdown_cap_below_the_first_delay_is_refused(failure: ConfigFailure) -> None:
    error = failure("[smpp]\nauth_slowdown_s = 5\nauth_slowdown_max_s = 2")
    assert error.key == "smpp.auth_slowdown_max_s"


def test_a_misspelt_smpp_key_is_refused_by_its_full_name(failure: ConfigFailure) -> None:
    error = failure("[smpp]\nwindwo = 10")
    assert error.key == "smpp.windwo"
    assert "unknown key" in error.expected


def test_a_tls_listener_loads_its_certificate_relative_to_the_config(
    load: LoadConfig, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    tls = load(
        f'[smpp]\nport = 2775\n[smpp.tls]\nport = 3550\ncert_file = "{cert.name}"\n'
        f'key_file = "{key.name}"'
    ).smpp.tls
    assert tls == TlsConfig(hosts=("127.0.0.1",), port=3550, cert_file=cert, key_file=key)


def test_a_tls_listener_can_have_its_own_hosts(load: LoadConfig, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    tls = load(
        f'[smpp.tls]\nhost = ["0.0.0.0", "::"]\ncert_file = "{cert}"\nkey_file = "{key}"'
    ).smpp.tls
    assert tls is not None and tls.hosts == ("0.0.0.0", "::")


def test_a_tls_certificate_file_that_does_not_exist_is_refused(
    failure: ConfigFailure, tmp_path: Path
) -> None:
    _, key = make_certificate(tmp_path)
    error = failure(f'[smpp.tls]\ncert_file = "missing.crt"\nkey_file = "{key}"')
    assert error.key == "smpp.tls.cert_file"
    assert str(tmp_path / "missing.crt") in error.expected


def test_a_tls_key_file_that_does_not_exist_is_refused(
    failure: ConfigFailure, tmp_path: Path
) -> None:
    cert, _ = make_certificate(tmp_path)
    error = failure(f'[smpp.tls]\ncert_file = "{cert}"\nkey_file = "missing.key"')
    assert error.key == "smpp.tls.key_file"


def test_a_tls_certificate_that_is_not_pem_is_refused(
    failure: ConfigFailure, tmp_path: Path
) -> None:
    _, key = make_certificate(tmp_path)
    (tmp_path / "junk.crt").write_text("not a certificate\n", encoding="utf-8")
    error = failure(f'[smpp.tls]\ncert_file = "junk.crt"\nkey_file = "{key}"')
    assert error.key == "smpp.tls.cert_file"


def test_a_tls_key_that_does_not_match_the_certificate_is_refused(
    failure: ConfigFailure, tmp_path: Path
) -> None:
    cert, _ = make_certificate(tmp_path, "one")
    _, other_key = make_certificate(tmp_path, "two")
    error = failure(f'[smpp.tls]\ncert_file = "{cert}"\nkey_file = "{other_key}"')
    assert error.key == "smpp.tls.key_file"


def test_a_tls_section_without_files_is_refused(failure: ConfigFailure) -> None:
    assert failure("[smpp.tls]\nport = 3550").key == "smpp.tls.cert_file"


def test_a_tls_port_equal_to_the_smpp_port_is_refused(
    failure: ConfigFailure, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    error = failure(
        f'[smpp]\nport = 2775\n[smpp.tls]\nport = 2775\ncert_file = "{cert}"\nkey_file = "{key}"'
    )
    assert error.key == "smpp.tls.port"


def test_every_metrics_key_is_read(load: LoadConfig) -> None:
    metrics = load(metrics='[metrics]\nhost = "0.0.0.0"\nport = 9200').metrics
    assert metrics == MetricsConfig(host="0.0.0.0", port=9200)


def test_a_metrics_port_equal_to_the_smpp_port_is_refused(failure: ConfigFailure) -> None:
    error = failure("[smpp]\nport = 9102", metrics="[metrics]\nport = 9102")
    assert error.key == "metrics.port"
    assert "smpp.port" in error.expected


def test_a_metrics_port_out_of_range_is_refused(failure: ConfigFailure) -> None:
    assert failure(metrics="[metrics]\nport = 70000").key == "metrics.port"


def test_max_connections_left_out_is_derived_at_start(load: LoadConfig) -> None:
    smpp = load("[smpp]").smpp
    assert smpp.max_connections is None
    assert (smpp.max_connections_per_address, smpp.max_unbound_connections) == (64, 256)


@pytest.mark.parametrize("key", ["max_connections_per_address", "max_unbound_connections"])
def test_a_connection_cap_above_max_connections_is_refused_by_name(
    failure: ConfigFailure, key: str
) -> None:
    error = failure(f"[smpp]\nmax_connections = 50\n{key} = 51")
    assert error.key == f"smpp.{key}"
    assert "at most max_connections (50)" in error.expected


def test_default_connection_caps_above_a_small_max_connections_are_lowered_to_it(
    load: LoadConfig,
) -> None:
    smpp = load("[smpp]\nmax_connections = 30").smpp
    assert (smpp.max_connections_per_address, smpp.max_unbound_connections) == (30, 30)


# --- PROXY protocol (behind a load balancer) -------------------------------------------------


def test_proxy_protocol_is_off_by_default(load: LoadConfig) -> None:
    assert (load().smpp.proxy_protocol, load().smpp.proxy_trusted) == (False, ())


def test_proxy_protocol_reads_the_trusted_balancers(load: LoadConfig) -> None:
    smpp = load('[smpp]\nproxy_protocol = true\nproxy_trusted = ["10.0.0.5", "fd00::/64"]').smpp
    assert smpp.proxy_protocol is True
    assert [str(network) for network in smpp.proxy_trusted] == ["10.0.0.5/32", "fd00::/64"]


def test_proxy_protocol_without_trusted_balancers_is_refused(failure: ConfigFailure) -> None:
    error = failure("[smpp]\nproxy_protocol = true")
    assert error.key == "smpp.proxy_trusted"
    assert "required" in error.expected


def test_proxy_trusted_without_proxy_protocol_is_refused(failure: ConfigFailure) -> None:
    error = failure('[smpp]\nproxy_trusted = ["10.0.0.5"]')
    assert error.key == "smpp.proxy_trusted"
    assert "proxy_protocol = true" in error.expected


def test_an_empty_proxy_trusted_list_is_refused(failure: ConfigFailure) -> None:
    error = failure("[smpp]\nproxy_protocol = true\nproxy_trusted = []")
    assert error.key == "smpp.proxy_trusted"


def test_a_proxy_trusted_network_with_host_bits_names_its_entry(failure: ConfigFailure) -> None:
    error = failure('[smpp]\nproxy_protocol = true\nproxy_trusted = ["10.0.0.0/8", "10.0.0.5/24"]')
    assert error.key == "smpp.proxy_trusted[1]"
    assert "did you mean 10.0.0.0/24" in error.expected


def test_proxy_protocol_given_as_a_string_is_refused(failure: ConfigFailure) -> None:
    error = failure('[smpp]\nproxy_protocol = "yes"\nproxy_trusted = ["10.0.0.5"]')
    assert error.key == "smpp.proxy_protocol"


def test_bind_lease_s_defaults_to_30_seconds_and_is_bounded(
    load: LoadConfig, failure: ConfigFailure
) -> None:
    assert load().smpp.bind_lease_s == 30.0
    assert load("[smpp]\nbind_lease_s = 10").smpp.bind_lease_s == 10.0
    for bad in ("2", "601"):
        assert failure(f"[smpp]\nbind_lease_s = {bad}").key == "smpp.bind_lease_s"
