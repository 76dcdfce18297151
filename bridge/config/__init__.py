"""The bridge's TOML configuration: typed, validated in this one package.

`load_config(path)` reads one file into a `BridgeConfig` or raises a `ConfigError` naming
the file, the full key (`accounts[1].password`) and what was expected.
"""

from bridge.config.accounts import AccountConfig
from bridge.config.errors import ConfigError
from bridge.config.listeners import MetricsConfig, SmppConfig, TlsConfig
from bridge.config.reader import TableReader

__all__ = [
    "AccountConfig",
    "ConfigError",
    "MetricsConfig",
    "SmppConfig",
    "TableReader",
    "TlsConfig",
]
