"""The bridge's TOML configuration: typed, validated in this one package."""

from bridge.config.errors import ConfigError
from bridge.config.reader import TableReader

__all__ = ["ConfigError", "TableReader"]
