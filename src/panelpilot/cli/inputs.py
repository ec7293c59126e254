"""What several commands take: the argument and option types, and a password on stdin."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from panelpilot.cli.exits import fail

SitePath = Annotated[Path, typer.Argument(help="Site file (YAML).", show_default=False)]
DbUrl = Annotated[
    str, typer.Option("--db", help="Database URL (SQLite file by default; PostgreSQL works).")
]


def data_dir() -> Path:
    """The per-user data directory: $XDG_DATA_HOME/panelpilot, else ~/.local/share/panelpilot."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "panelpilot"


# Every command (`run`, `users`, `tokens`) finds the same database unless told `--db`.
DEFAULT_DB_URL = f"sqlite:///{data_dir() / 'panelpilot.db'}"
Host = Annotated[str, typer.Option(help="Address to listen on (local only unless told).")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]

# Far longer than any password either store accepts, short enough to never fill memory.
PASSWORD_LINE_BYTES = 4096


def password_line() -> str:
    """The first line of standard input as a password: UTF-8 text, without its line end."""
    raw = sys.stdin.buffer.readline(PASSWORD_LINE_BYTES + 1)
    if len(raw) > PASSWORD_LINE_BYTES:
        raise fail(f"password on standard input: longer than {PASSWORD_LINE_BYTES} bytes")
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise fail("password on standard input: not UTF-8 text") from None
