"""`panelpilot check`: the installation's design against the source documents' rules.

The design layer returns the report; this command prints it (text or `--json`), writes the HTML
page when asked, and exits 1 when the design has errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from panelpilot.cli.exits import EXIT_FINDINGS, EXIT_OK, fail
from panelpilot.cli.inputs import SitePath
from panelpilot.cli.progress import Quiet, working


def _console() -> Console:
    """The terminal's width on a terminal; 120 columns when piped, so tables stay readable."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def _write_html(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot write the HTML report: {exc.strerror}") from None


def check(
    site: SitePath,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report with a diagram.")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Check the installation's design against the source documents' rules (exit 1 on errors)."""
    from panelpilot.cli.check_html import render_html
    from panelpilot.cli.check_text import render_json, render_text
    from panelpilot.design.load import load_for_check

    with working("checking", quiet):
        loaded = load_for_check(site)  # SiteFileError: the boundary
        report = loaded.check()
        if html is not None:
            _write_html(html, render_html(report, loaded.site))
    if as_json:
        print(render_json(report))
    else:
        render_text(report, _console())
    raise typer.Exit(EXIT_FINDINGS if report.has_errors else EXIT_OK)
