"""`das demo`: what `make demo` runs."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """演示 / Run the demo."""
        typer.echo("演示尚未就绪 / demo not ready yet")
