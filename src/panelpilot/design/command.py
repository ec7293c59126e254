"""`panelpilot check`: load, check, print; the exit code says whether the design has errors."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from panelpilot.design.checker import Report, check_design
from panelpilot.design.html import render_html
from panelpilot.design.load import load_for_check
from panelpilot.design.report import render_json, render_text

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_BAD_OUTPUT = 2  # the HTML report could not be written


def _console() -> Console:
    """The terminal's width on a terminal; 120 columns when piped, so tables stay readable."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def check_file(path: Path) -> Report:
    """Check one site file. Raises `SiteFileError` when the file is unusable."""
    loaded = load_for_check(path)
    return check_design(loaded.site, locate=loaded.line, site_problems=loaded.problems)


def _write_html(path: Path, page: str) -> bool:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"panelpilot: {path}: cannot write the HTML report: {exc.strerror}", file=sys.stderr)
        return False
    return True


def run_check(
    path: Path, *, as_json: bool, html: Path | None = None, console: Console | None = None
) -> int:
    """Check a site file and print the report (and write the HTML page when asked);
    return 0 (no errors), 1 (errors) or 2 (the HTML file cannot be written)."""
    loaded = load_for_check(path)
    report = check_design(loaded.site, locate=loaded.line, site_problems=loaded.problems)
    if html is not None and not _write_html(html, render_html(report, loaded.site)):
        return EXIT_BAD_OUTPUT
    if as_json:
        print(render_json(report))
    else:
        render_text(report, console or _console())
    return EXIT_ERRORS if report.has_errors else EXIT_OK
