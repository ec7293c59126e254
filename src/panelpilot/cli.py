"""`panelpilot`: one command with sub-commands. Exit codes: 0 fine, 1 findings, 2 bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from panelpilot.site import Site, SiteFileError, load_site, site_schema

app = typer.Typer(
    help="panelpilot: EV power sharing and PCS limits that keep every circuit under its limit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2

SitePath = Annotated[Path, typer.Argument(help="Site file (YAML).", show_default=False)]


def fail(lines: list[str] | str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one clear line per problem on stderr and return the exit to raise."""
    for line in [lines] if isinstance(lines, str) else lines:
        print(f"panelpilot: {line}", file=sys.stderr)
    return typer.Exit(code)


def load_site_or_exit(path: Path) -> Site:
    """Load a site file, turning its problems into exit code 2."""
    try:
        return load_site(path)
    except SiteFileError as exc:
        raise fail([str(p) for p in exc.problems]) from None


@app.command()
def schema() -> None:
    """Print the JSON Schema of the site file."""
    print(json.dumps(site_schema(), indent=2))


@app.command()
def validate(site: SitePath) -> None:
    """Check that a site file loads; print a one-line summary."""
    loaded = load_site_or_exit(site)
    print(
        f"{site}: ok: {loaded.name!r}, {sum(1 for _ in loaded.all_circuits())} circuits, "
        f"{len(loaded.networks)} networks, {len(loaded.chargers)} chargers, "
        f"{len(loaded.batteries)} batteries, {len(loaded.solar)} solar"
    )


def main() -> None:
    """Entry point of the `panelpilot` script."""
    app()
