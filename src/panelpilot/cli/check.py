"""`panelpilot check`: the installation's design against the source documents' rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from panelpilot.cli.inputs import SitePath


def check(
    site: SitePath,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report with a diagram.")
    ] = None,
) -> None:
    """Check the installation's design against the source documents' rules (exit 1 on errors)."""
    from panelpilot.design.command import run_check

    raise typer.Exit(run_check(site, as_json=as_json, html=html))
