"""The charge points' credential file is created private (it holds password hashes)."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from panelpilot.cli import app


def test_a_new_credential_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    result = CliRunner().invoke(
        app, ["chargers", "add", "WC-1", "--password-stdin", "--db", str(db)], input="a password"
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
