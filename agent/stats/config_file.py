"""Load `OutletParams` from a small TOML file (the keys are the model's fields; docs/statistics.md lists them)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from agent.stats.params import OutletParams


class ParamsFileError(ValueError):
    """A statistics parameter file that cannot be used; the message names the file and the keys at fault."""


def load_params(path: Path) -> OutletParams:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ParamsFileError(f"{path}: {err}") from err
    try:
        return OutletParams.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            where = ".".join(str(x) for x in e["loc"]) or "(top level)"
            lines.append(f"  {where}: {e['msg']}")
        raise ParamsFileError(f"{path}: 参数错误 / invalid parameters:\n" + "\n".join(lines)) from err
