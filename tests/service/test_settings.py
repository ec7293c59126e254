"""Settings changes: checked, committed, queued; restored after a restart; alerts as events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.drivers.sim import World
from panelpilot.service.clock import ManualClock
from panelpilot.service.launch import sim_driver_set
from panelpilot.service.service import Service, build_service
from panelpilot.service.settings import Actor, Forbidden
from panelpilot.service.storage import Storage, sqlite_url
from tests.service.helpers import garage_site

INSTALLER = Actor("ivan", "installer", "EC-1")


def _service(db: Path) -> tuple[Service, World, ManualClock]:
    site = garage_site()
    clock = ManualClock()
    world = World.of(site, clock.monotonic_s)
    storage = Storage.open(sqlite_url(str(db)))
    return build_service(site, sim_driver_set(world), storage, clock), world, clock


def _cycles(service: Service, clock: ManualClock, n: int) -> None:
    async def run() -> None:
        for _ in range(n):
            clock.advance(1.0)
            await service.runtime.cycle()

    asyncio.run(run())


def test_settings_survive_a_restart(tmp_path: Path) -> None:
    service, _world, clock = _service(tmp_path / "pp.db")
    settings = service.settings
    settings.change_network(INSTALLER, Command("garage-net", enabled=False))
    settings.change_network(INSTALLER, Command("garage-net", network_limit_a=50))
    settings.change_network(INSTALLER, Command("garage-net", remove="wc3"))
    settings.change_pcs(INSTALLER, {"panel_limit_a": None})
    _cycles(service, clock, 1)

    again, _world, _clock = _service(tmp_path / "pp.db")
    net = again.runtime.controller.state.networks["garage-net"]
    assert (net.enabled, net.limit_a, net.members) == (False, 50.0, ("wc1", "wc2"))
    assert again.runtime.site.pcs.panel_limit_a is None


def test_a_refused_change_is_neither_stored_nor_queued(tmp_path: Path) -> None:
    service, _world, _clock = _service(tmp_path / "pp.db")
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


def test_alerts_are_logged_when_they_start_and_when_they_clear(tmp_path: Path) -> None:
    service, world, clock = _service(tmp_path / "pp.db")
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
