"""The exit codes of `panelpilot` and how a command ends with one clear line per problem."""

from __future__ import annotations

import sys

import typer

EXIT_OK = 0
EXIT_FINDINGS = 1  # `check`: the design has error findings
EXIT_BAD_INPUT = 2  # a file, an option or standard input that cannot be used


def fail(lines: list[str] | str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one clear line per problem on stderr and return the exit to raise."""
    for line in [lines] if isinstance(lines, str) else lines:
        print(f"panelpilot: {line}", file=sys.stderr)
    return typer.Exit(code)
