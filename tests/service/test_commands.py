"""`panelpilot run`, `demo` and `users add`: clear one-line errors and exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.service.database import sqlite_url
from tests.service.helpers import SITE_YAML

runner = CliRunner()


def test_users_add_needs_a_real_password_and_role(db_url: str) -> None:
    db = db_url
    short = runner.invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="short\n"
    )
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    role = runner.invoke(
        app,
        ["users", "add", "ann", "--role", "admin", "--password-stdin", "--db", db],
        input="long enough\n",
    )
    assert role.exit_code == 2 and "unknown role 'admin'" in role.output
    ok = runner.invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="long enough\n"
    )
    assert ok.exit_code == 0, ok.output


def test_run_names_the_devices_without_a_driver(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    db = sqlite_url(str(tmp_path / "pp.db"))
    runner.invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="long enough\n"
    )
    result = runner.invoke(app, ["run", str(site), "--db", db, "--port", "0"])
    assert result.exit_code == 2
    assert "no driver for garage, pv1, pw1, site, wc1, wc2, wc3, wc4" in result.output


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["demo", "--port", str(port), "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
