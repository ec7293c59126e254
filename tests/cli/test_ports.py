"""`--port 0`: the system picks a free port, and the URL printed is the one listened on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.drivers.base import DriverError
from panelpilot.service.database import sqlite_url
from panelpilot.service.launch import chosen_port, listen_problem
from tests.service.helpers import SITE_YAML


def test_port_0_is_a_free_port_and_any_other_is_kept() -> None:
    port = chosen_port("127.0.0.1", 0)
    assert port > 0
    assert listen_problem("127.0.0.1", port) is None
    assert chosen_port("127.0.0.1", 8123) == 8123


def test_run_with_port_0_prints_the_port_it_listens_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    db = sqlite_url(str(tmp_path / "pp.db"))
    runner = CliRunner()
    added = runner.invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="long enough\n"
    )
    assert added.exit_code == 0, added.output
    listened: list[int] = []

    async def serve(service: object, app_factory: object, host: str, port: int, *a: object) -> None:
        listened.append(port)
        raise DriverError("wc1", "stopped by the test")

    monkeypatch.setattr("panelpilot.service.launch.serve_until_signalled", serve)
    result = runner.invoke(
        app, ["run", str(site), "--db", db, "--sim", "--port", "0", "--ocpp-port", "0"]
    )
    shown = re.search(r"on http://127\.0\.0\.1:(\d+)/", result.output)
    assert shown is not None, result.output
    assert listened == [int(shown.group(1))] and listened[0] > 0
