"""`das packet decode|encode`: read and build HJ 212 frames (filled in by the codec work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    packet = typer.Typer(help="HJ 212 报文解码/编码 / decode and encode HJ 212 frames.", no_args_is_help=True)
    app.add_typer(packet, name="packet")
