"""`[admin]`, `[admin.tls]` and `[[admin.tokens]]`: the control plane's HTTP listener.

Off unless `[admin]` is in the file. Each token has a name (what the audit log and the log
lines show, never the token) and a scope: `read` sees, `operate` also acts. A token comes
from an environment variable (`token_env`) or a file (`token_file`), never from the config
itself, so a committed config names where the token lives and not the token.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from bridge.config.errors import ConfigError
from bridge.config.listeners import MetricsConfig, SmppConfig
from bridge.config.reader import TableReader

ADMIN_PORT = 9103
SCOPES = ("read", "operate")
# Shorter tokens can be guessed; 32 hex characters (128 bits) is what `openssl rand -hex 16`
# prints.
MIN_TOKEN_LENGTH = 16
AUDIT_MAX_ENTRIES = 10_000
AUDIT_MAX_AGE_S = 90 * 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminToken:
    name: str
    scope: str  # "read" or "operate"
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminTls:
    cert_file: Path
    key_file: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminConfig:
    host: str = "127.0.0.1"
    port: int = ADMIN_PORT
    tls: AdminTls | None = None
    tokens: tuple[AdminToken, ...] = ()
    audit_max_entries: int = AUDIT_MAX_ENTRIES
    audit_max_age_s: float = AUDIT_MAX_AGE_S


def parse_admin_section(reader: TableReader) -> AdminConfig:
    host = reader.string("host", "127.0.0.1")
    port = reader.port("port", ADMIN_PORT)
    tls = _tls(reader.table("tls")) if reader.has("tls") else None
    tokens = tuple(_token(table) for table in reader.tables("tokens"))
    if not tokens and not reader.failed("tokens"):
        reader.report("tokens", "expected at least one [[admin.tokens]] (nobody could call it)")
    names = [token.name for token in tokens]
    if len(set(names)) != len(names):
        reader.report("tokens", "expected each token name once, one is used twice")
    secrets = [token.token for token in tokens if token.token]
    if len(set(secrets)) != len(secrets):
        reader.report("tokens", "expected a different token for each name")
    config = AdminConfig(
        host=host,
        port=port,
        tls=tls,
        tokens=tokens,
        audit_max_entries=reader.integer(
            "audit_max_entries", AUDIT_MAX_ENTRIES, minimum=100, maximum=10_000_000
        ),
        audit_max_age_s=reader.number(
            "audit_max_age_s", AUDIT_MAX_AGE_S, minimum=3600.0, maximum=10 * 365 * 86_400.0
        ),
    )
    reader.finish()
    return config


def _token(reader: TableReader) -> AdminToken:
    name = reader.string("name")
    if not name or not name.isascii() or not name.replace("-", "").replace("_", "").isalnum():
        reader.report("name", "expected letters, digits, '-' and '_' only")
    reader.name_as(name)
    scope = reader.choice("scope", SCOPES, "read")
    given = [key for key in ("token_env", "token_file") if reader.has(key)]
    token = ""
    if len(given) != 1:
        reader.string("token_env", "")
        reader.string("token_file", "")
        reader.report("token_env", "set exactly one of token_env, token_file")
    else:
        # `secret` reads `token_env` / `token_file`; `token` itself is never read, so a
        # token written into the config is refused as an unknown key.
        token = _secret(reader, given[0])
    if token and not _strong(token):
        reader.report(
            given[0],
            f"expected a token of at least {MIN_TOKEN_LENGTH} printable ASCII characters "
            "without spaces (e.g. `openssl rand -hex 16`)",
        )
    reader.finish()
    return AdminToken(name=name, scope=scope, token=token)


def _strong(token: str) -> bool:
    return (
        len(token) >= MIN_TOKEN_LENGTH
        and token.isascii()
        and token.isprintable()
        and " " not in token
    )


def _tls(reader: TableReader) -> AdminTls:
    """The cert_file and key_file of [smpp.tls], loaded as the listener will load them."""
    files = []
    for name in ("cert_file", "key_file"):
        path = Path(reader.string(name))
        if not path.is_absolute():
            path = reader.path.parent / path
        if not path.is_file() and not reader.failed(name):
            reader.report(name, f"expected an existing file, {path} is not one")
        files.append(path)
    reader.finish()
    cert_file, key_file = files
    if cert_file.is_file() and key_file.is_file():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(str(cert_file), str(key_file), password=lambda: b"")
        except (ssl.SSLError, OSError) as exc:
            reader.report("key_file", f"expected a PEM certificate chain and its key: {exc}")
    return AdminTls(cert_file=cert_file, key_file=key_file)


def _secret(reader: TableReader, which: str) -> str:
    raw = reader.string(which)
    if reader.failed(which):
        return ""
    if which == "token_env":
        value = os.environ.get(raw)
        if value is None:
            reader.report(which, f"environment variable {raw!r} is not set")
            return ""
        return value
    path = Path(raw)
    if not path.is_absolute():
        path = reader.path.parent / path
    try:
        # A trailing newline is what editors and `echo` leave; it is never part of it.
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        reader.report(which, f"cannot read {path}: {exc.strerror}")
        return ""


def check_admin_apart(
    path: Path, admin: AdminConfig, smpp: SmppConfig, metrics: MetricsConfig
) -> None:
    """The admin listener cannot share a port with the SMPP or metrics listeners."""
    ports = [("smpp.port", smpp.port), ("metrics.port", metrics.port)]
    if smpp.tls is not None:
        ports.append(("smpp.tls.port", smpp.tls.port))
    for key, port in ports:
        if admin.port != 0 and admin.port == port:
            raise ConfigError(path, "admin.port", f"expected a port other than {key} ({port})")
