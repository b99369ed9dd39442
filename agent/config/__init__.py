"""The site configuration (issue 6): one TOML file describing a station, validated at load.

`load_config(path)` returns a frozen `SiteConfig` or raises `ConfigError` listing every problem as
`FILE:LINE: key: what was expected`; `agent.config.build` turns it into each package's parameters.
docs/configuration.md documents every key.
"""

from agent.config.errors import ConfigError, Problem
from agent.config.load import load_config, parse_config
from agent.config.model import SiteConfig

__all__ = ["ConfigError", "Problem", "SiteConfig", "load_config", "parse_config"]
