"""Settings changes: checked, committed, queued; restored after a restart; alerts as events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import ManualClock
from panelpilot.service.service import Service, build_service
from panelpilot.service.settings import Actor, Forbidden
from panelpilot.service.storage import Storage
from tests.service.helpers import garage_site

INSTALLER = Actor("ivan", "installer", "EC-1")


def _service(db: str) -> tuple[Service, World, ManualClock]:
    site = garage_site()
    clock = ManualClock()
    world = World.of(site, clock.monotonic_s)
    storage = Storage.open(db)
    return build_service(site, sim_driver_set(world), storage, clock), world, clock


def _cycles(service: Service, clock: ManualClock, n: int) -> None:
    async def run() -> None:
        for _ in range(n):
            clock.advance(1.0)
            await service.runtime.cycle()

    asyncio.run(run())


def test_settings_survive_a_restart(db_url: str) -> None:
    service, _world, clock = _service(db_url)
    settings = service.settings
    settings.change_network(INSTALLER, Command("garage-net", enabled=False))
    settings.change_network(INSTALLER, Command("garage-net", network_limit_a=50))
    settings.change_network(INSTALLER, Command("garage-net", remove="wc3"))
    settings.change_pcs(INSTALLER, {"panel_limit_a": None})
    _cycles(service, clock, 1)

    again, _world, _clock = _service(db_url)
    net = again.runtime.controller.state.networks["garage-net"]
    assert (net.enabled, net.limit_a, net.members) == (False, 50.0, ("wc1", "wc2"))
    assert again.runtime.site.pcs.panel_limit_a is None


def test_a_refused_change_is_neither_stored_nor_queued(db_url: str) -> None:
    service, _world, _clock = _service(db_url)
    with pytest.raises(SettingsError, match="disable it before"):
        service.settings.change_network(INSTALLER, Command("garage-net", network_limit_a=50))
    with pytest.raises(Forbidden):
        service.settings.change_network(
            Actor("olive", "owner"), Command("garage-net", enabled=False)
        )
    with pytest.raises(Forbidden, match="license number"):
        service.settings.change_pcs(Actor("ivan", "installer"), {"panel_limit_a": 90})
    assert service.storage.setting_history() == []
    assert service.runtime.pending == ()


def test_alerts_are_logged_when_they_start_and_when_they_clear(db_url: str) -> None:
    service, world, clock = _service(db_url)
    _cycles(service, clock, 2)
    world.meters_online["garage"] = False
    _cycles(service, clock, 3)
    world.meters_online["garage"] = True
    _cycles(service, clock, 3)
    events = [(e.kind, e.code) for e in reversed(service.storage.events(1000))]
    raised = [code for kind, code in events if kind == "alert"]
    cleared = [code for kind, code in events if kind == "alert_cleared"]
    assert raised and set(raised) == set(cleared)
    assert len(raised) == len(set(raised))  # once each, not every cycle
    rows = service.storage.telemetry(0)
    assert len(rows) == 8 and rows[-1][2]["readings"]["meters"]["garage"] is not None


def _stored_differently(db: str) -> None:
    """A database whose garage-net settings differ from the site file's, and its PCS too."""
    service, _world, _clock = _service(db)
    settings = service.settings
    settings.change_network(INSTALLER, Command("garage-net", enabled=False))
    settings.change_network(INSTALLER, Command("garage-net", network_limit_a=50))
    settings.change_network(INSTALLER, Command("garage-net", remove="wc3"))
    settings.change_network(INSTALLER, Command("garage-net", add="wc4"))
    settings.change_pcs(INSTALLER, {"panel_limit_a": 90})


EXPECTED_DIFFERENCES = [
    "network garage-net: enabled: stored false, site file true",
    "network garage-net: network_limit_a: stored 50 A, site file 72 A",
    "network garage-net: members: stored wc1, wc2, wc4, site file wc1, wc2, wc3 "
    "(stored adds wc4; stored removes wc3)",
    "pcs: panel_limit_a: stored 90 A, site file 100 A",
]


def test_stored_settings_that_differ_from_the_site_file_are_listed_one_per_line(
    db_url: str,
) -> None:
    _stored_differently(db_url)
    site = garage_site()
    storage = Storage.open(db_url)
    service = build_service(site, sim_driver_set(World.of(site, ManualClock().monotonic_s)),
                            storage, ManualClock(), restore=False)  # fmt: skip
    assert service.settings.differences() == EXPECTED_DIFFERENCES


def test_run_stops_with_the_list_until_the_installer_chooses(tmp_path: Path, db_url: str) -> None:
    from typer.testing import CliRunner

    from panelpilot.cli import app
    from tests.service.helpers import SITE_YAML

    _stored_differently(db_url)
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SITE_YAML)
    db = db_url
    runner = CliRunner()
    added = runner.invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="long enough\n"
    )
    assert added.exit_code == 0
    result = runner.invoke(app, ["run", str(site_file), "--db", db, "--sim", "--port", "0"])
    assert result.exit_code == 2
    lines = [line.removeprefix("panelpilot: ").strip() for line in result.output.splitlines()]
    assert lines[1:-1] == EXPECTED_DIFFERENCES
    assert "--use-stored" in lines[-1] and "--reset-settings" in lines[-1]
    both = runner.invoke(
        app, ["run", str(site_file), "--db", db, "--use-stored", "--reset-settings"]
    )
    assert both.exit_code == 2 and "choose one of" in both.output


def _fresh(db: str) -> Service:
    site = garage_site()
    clock = ManualClock()
    storage = Storage.open(db)
    return build_service(site, sim_driver_set(World.of(site, clock.monotonic_s)), storage,
                         clock, restore=False)  # fmt: skip


def test_use_stored_keeps_them_and_reset_settings_records_the_site_file_as_the_cli(
    db_url: str,
) -> None:
    from panelpilot.cli.run import choose_settings

    db = db_url
    _stored_differently(db)
    kept = _fresh(db)
    choose_settings(kept, Path("site.yaml"), use_stored=True, reset=False)
    net = kept.settings.network("garage-net")
    assert (net.enabled, net.network_limit_a, net.members) == (False, 50.0, ("wc1", "wc2", "wc4"))
    assert kept.runtime.site.pcs.panel_limit_a == 90

    reset = _fresh(db)
    choose_settings(reset, Path("site.yaml"), use_stored=False, reset=True)
    net = reset.settings.network("garage-net")
    assert (net.enabled, net.network_limit_a, net.members) == (True, 72.0, ("wc1", "wc2", "wc3"))
    assert reset.runtime.site.pcs.panel_limit_a == 100
    assert reset.settings.differences() == []
    newest = reset.storage.setting_history(limit=2)
    assert {v.who for v in newest} == {"cli"}
    assert all("--reset-settings" in v.summary for v in newest)
    assert newest[0].at_s > 0
    # The history keeps what was stored before the reset.
    assert any(v.new["network_limit_a"] == 50 for v in reset.storage.setting_history(
        "network:garage-net"))  # fmt: skip
