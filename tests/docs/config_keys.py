"""Every config key the parser knows, by section, found by watching it read a config.

Each section parser reads its table through a `TableReader`, asking for every key it
knows (present or not: defaults are asked for too, and so are the keys it refuses in the
wrong context) before `finish()` refuses the rest. Wrapping each table in a mapping that
records what it is asked gives the parser's own list, so nothing here repeats it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.config import TableReader, load_config

# A key is a TOML bare key the operator types; `[isms.status_overrides]` is asked for each
# iSMS code ("-1000" ... "-1099"), which are values of a table, not keys to document.
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_INDEX = re.compile(r"\[\d+\]")


class _Recording(dict[str, object]):
    """A table that notes every key it is asked for, whether it holds it or not."""

    def __init__(self, table: dict[str, object], asked: set[str]) -> None:
        super().__init__(table)
        self._asked = asked

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._asked.add(key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> object:
        self._asked.add(key)
        return super().__getitem__(key)


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key, so a `[smpp.tls]` table loads (and the token
    file SMALLEST's `[[admin.tokens]]` names)."""
    (directory / "admin.token").write_text("docs-admin-token-0123456789\n", encoding="utf-8")
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
    cert_path, key_path = directory / "bridge.crt", directory / "bridge.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# Every section present (the TLS one is read only when present), each with the least it
# needs; the parser asks for every other key anyway.
SMALLEST = """
[smpp]
[smpp.tls]
cert_file = "bridge.crt"
key_file = "bridge.key"
[isms]
[isms.status_overrides]
[metrics]
[messages]
[state]
[policy]
[admin]
[admin.tls]
cert_file = "bridge.crt"
key_file = "bridge.key"
[[admin.tokens]]
name = "ops"
token_file = "admin.token"
[[accounts]]
system_id = "esme1"
password = "secret1"
isms_username = "isms"
isms_password = "isms123"
"""


def _section(prefix: str) -> str:
    """`accounts[0]` -> `accounts`: every account table is one section."""
    return _INDEX.sub("", prefix)


def known_keys(directory: Path) -> dict[str, set[str]]:
    """Section (`smpp`, `smpp.tls`, `accounts`, ...) -> the keys its parser knows.

    A key that is itself a section (`tls` of `smpp`) is listed as that section only.
    """
    write_certificate(directory)
    path = directory / "bridge.toml"
    path.write_text(SMALLEST, encoding="utf-8")
    asked: dict[str, set[str]] = {}
    original = TableReader.__init__

    def recording_init(
        reader: TableReader, path: Path, prefix: str, table: dict[str, object]
    ) -> None:
        keys = asked.setdefault(_section(prefix), set())
        original(reader, path, prefix, _Recording(table, keys))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TableReader, "__init__", recording_init)
        load_config(path)
    sections = {name for name in asked if name}
    found: dict[str, set[str]] = {}
    for section in sections:
        keys = {key for key in asked[section] if _KEY.fullmatch(key)}
        found[section] = {key for key in keys if f"{section}.{key}" not in sections}
    assert set(asked.get("", ())) >= {"smpp", "isms", "metrics", "messages", "state"}
    return found


_HEADER = re.compile(r"^#?\s*\[\[?\s*([a-z][a-z0-9_.]*)\s*\]\]?\s*(#.*)?$")
_LINE_KEY = re.compile(r'^#?\s*([a-z][a-z0-9_]*|"[^"]*")\s*=')


def example_keys(text: str) -> Iterator[tuple[str, str]]:
    """(section, key) for every key line of an example config, commented out or not.

    A commented-out table header (`# [smpp.tls]`) opens its section like a real one; its
    own keys, commented out too, are read under it. Quoted keys (status override codes) are
    values of their table, not keys, and are skipped.
    """
    section = ""
    for line in text.splitlines():
        header = _HEADER.match(line.strip())
        if header:
            section = header.group(1)
            parent, _, child = section.rpartition(".")
            if parent:
                yield parent, child
            continue
        key = _LINE_KEY.match(line.strip())
        if key and not key.group(1).startswith('"'):
            yield section, key.group(1)
