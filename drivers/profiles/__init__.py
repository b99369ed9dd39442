"""Device profiles: one TOML file per device model, so a new analyzer needs a data file, not code.

The shipped profiles live beside this module (`*.toml`); `docs/profiles.md` documents every key.
"""

from drivers.profiles.loader import (
    ProfileError,
    builtin_names,
    load_builtin,
    load_profile,
    parse_profile,
    resolve_profile,
)
from drivers.profiles.schema import InfoItem, Point, Profile, StateRow, StateTable
from drivers.profiles.state import StateOutcome, evaluate_states

__all__ = [
    "InfoItem",
    "Point",
    "Profile",
    "ProfileError",
    "StateOutcome",
    "StateRow",
    "StateTable",
    "builtin_names",
    "evaluate_states",
    "load_builtin",
    "load_profile",
    "parse_profile",
    "resolve_profile",
]
