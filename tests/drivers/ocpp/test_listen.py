"""A port the central system cannot take is one clear line naming it, and exit code 2."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore
from panelpilot.drivers.ocpp.central import ListenError
from panelpilot.service.database import sqlite_url
from tests.service.helpers import SITE_YAML

runner = CliRunner()


def test_a_busy_port_raises_listen_error_naming_the_address_and_port(
    store: CredentialStore,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        async def scenario() -> None:
            await CentralSystem(store, port=port).start()

        with pytest.raises(ListenError) as refused:
            asyncio.run(scenario())
    assert isinstance(refused.value, DriverError)  # the drivers' one error type
    assert f"cannot listen on 127.0.0.1:{port}" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_address_not_of_this_machine_raises_listen_error(store: CredentialStore) -> None:
    async def scenario() -> None:
        await CentralSystem(store, host="192.0.2.1", port=0).start()  # TEST-NET-1

    with pytest.raises(ListenError, match=r"cannot listen on 192\.0\.2\.1:0"):
        asyncio.run(scenario())


def test_a_busy_central_system_stops_cleanly_and_can_start_elsewhere(
    store: CredentialStore,
) -> None:
    async def scenario() -> int:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            central = CentralSystem(store, port=busy.getsockname()[1])
            with pytest.raises(ListenError):
                await central.start()
            await central.stop()  # nothing half-started to trip over
        async with CentralSystem(store, port=0) as elsewhere:
            return elsewhere.port

    assert asyncio.run(scenario()) > 0


def _site_with_an_ocpp_charger(tmp_path: Path) -> tuple[Path, str]:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML + "drivers:\n  - {kind: ocpp, device: wc1, charge_point_id: cp1}\n")
    db = sqlite_url(str(tmp_path / "pp.db"))
    added = runner.invoke(
        app,
        ["users", "add", "ann", "--role", "owner", "--password-stdin", "--db", db],
        input="long enough\n",
    )
    assert added.exit_code == 0, added.output
    return site, db


def test_run_with_the_ocpp_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    site, db = _site_with_an_ocpp_charger(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(
            app, ["run", str(site), "--db", db, "--port", "0", "--sim", "--ocpp-port", str(port)]
        )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("panelpilot: ")]
    assert errors[-1].startswith(
        f"panelpilot: OCPP central system: cannot listen on 127.0.0.1:{port}:"
    )
    assert "Traceback" not in result.output


def test_run_with_the_same_web_and_ocpp_port_is_refused(tmp_path: Path) -> None:
    site, db = _site_with_an_ocpp_charger(tmp_path)
    result = runner.invoke(
        app, ["run", str(site), "--db", db, "--port", "9000", "--ocpp-port", "9000", "--sim"]
    )
    assert result.exit_code == 2, result.output
    assert "--port and --ocpp-port are both 9000" in result.output
