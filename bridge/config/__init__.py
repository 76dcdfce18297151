"""The bridge's TOML configuration: typed, validated in this one package.

`load_config(path)` reads one file into a `BridgeConfig` or raises a `ConfigError` naming
the file, the full key (`accounts[1].password`) and what was expected. Each section has its
own parser module reading through a `TableReader`; `[isms]` is parsed by `isms.py`.

This package only parses and validates: its values are shaped like the file, and
`bridge.app.settings` is the one place that turns them into each layer's settings.
"""

# Imported first: the section parsers import these while the package initialises.
from bridge.config.errors import ConfigError
from bridge.config.reader import TableReader

# isort: split
from bridge.config.accounts import AccountConfig
from bridge.config.admin import AdminConfig, AdminTls, AdminToken
from bridge.config.isms import IsmsConfig, is_loopback_host
from bridge.config.listeners import MetricsConfig, SmppConfig, TlsConfig
from bridge.config.loader import BridgeConfig, load_config, load_metrics_config
from bridge.config.messages import MessagesConfig
from bridge.config.policy import AccountPolicyConfig, PolicyConfig
from bridge.config.profiles import KANNEL_SYSTEM_TYPE, PROFILES, EsmeProfile
from bridge.config.state import RedisConfig, StateConfig

__all__ = [
    "AccountConfig",
    "AccountPolicyConfig",
    "AdminConfig",
    "AdminTls",
    "AdminToken",
    "BridgeConfig",
    "ConfigError",
    "EsmeProfile",
    "IsmsConfig",
    "KANNEL_SYSTEM_TYPE",
    "MessagesConfig",
    "MetricsConfig",
    "PROFILES",
    "PolicyConfig",
    "RedisConfig",
    "SmppConfig",
    "StateConfig",
    "TableReader",
    "TlsConfig",
    "is_loopback_host",
    "load_config",
    "load_metrics_config",
]
