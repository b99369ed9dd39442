"""Tell a site configuration from the single-purpose files some commands also take.

`das read`/`das monitor` (a devices config) and `das uplink test/status` (an uplink file) predate the site
configuration; they take the site file too, so an installer checks wiring and platforms with the very file
`das run` will use. A site configuration is recognised by its required `[site]` table.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

__all__ = ["is_site_config"]


def is_site_config(path: Path) -> bool:
    """True for a readable TOML file with a `[site]` table; anything else is left to the command's own loader
    (which then reports the unreadable file or the syntax error itself)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("site"), dict)
