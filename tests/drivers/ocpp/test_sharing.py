"""Seed: 6 chargers share an 80 A network over real OCPP sockets; without the central system
each falls back to the fair limit 80 / 6 A within its lease."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import ChargerDecision, ChargerReading, ChargerStatus
from panelpilot.drivers.base import ChargerDriver
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore, OcppChargerDriver
from panelpilot.drivers.ocpp.profiles import Version, floor_tenth_a
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint, start_fleet, stop_fleet
from panelpilot.site import Site, load_site_text
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD, ManualClock

NETWORK_LIMIT_A = 80.0
FAIR_A = NETWORK_LIMIT_A / 6  # seed: fallback = network limit / network size
LEASE_S = 30.0


def garage_site() -> Site:
    chargers = "".join(
        f"  - {{id: wc{i}, circuit: garage, network: net, max_a: 48}}\n" for i in range(1, 7)
    )
    drivers = "".join(
        f"  - {{kind: ocpp, device: wc{i}, charge_point_id: cp{i}}}\n" for i in range(1, 7)
    )
    return load_site_text(
        "circuits:\n  - {id: garage, limit_a: 100}\n"
        "networks:\n  - {id: net, circuit: garage, network_limit_a: 80}\n"
        f"chargers:\n{chargers}drivers:\n{drivers}"
    )


def drivers_for(site: Site, central: CentralSystem) -> dict[str, OcppChargerDriver]:
    max_a = {c.id: c.max_a for c in site.chargers}
    return {
        d.device: OcppChargerDriver(central, d, max_a[d.device])
        for d in site.drivers
        if isinstance(d, OcppDriverConfig)
    }


def share(readings: dict[str, ChargerReading]) -> dict[str, ChargerDecision]:
    """Stand-in allocation: plugged-in cars split the network, the others idle at 0."""
    plugged = [device for device, r in readings.items() if r.connected]
    each_a = floor_tenth_a(NETWORK_LIMIT_A / max(len(plugged), 1))
    return {
        device: ChargerDecision(
            limit_a=each_a if device in plugged else 0.0,
            fallback_a=floor_tenth_a(FAIR_A),
            status=ChargerStatus.CHARGING if device in plugged else ChargerStatus.IDLE,
            target_a=each_a if device in plugged else 0.0,
            lease_s=LEASE_S,
        )
        for device in readings
    }


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_six_chargers_on_80_a_sum_within_limit_and_fall_back_to_80_over_6(
    store: CredentialStore, clock: ManualClock, version: Version
) -> None:
    async def scenario() -> None:
        site = garage_site()
        central = CentralSystem(store, clock=clock)
        await central.start()
        fleet = await start_fleet(
            SimulatedChargePoint(
                f"cp{i}",
                PASSWORD,
                central.url(f"cp{i}"),
                clock=clock,
                version=version,
                ev=SimEV(onboard_max_a=48),
            )
            for i in range(1, 7)
        )
        drivers = drivers_for(site, central)
        assert all(isinstance(d, ChargerDriver) for d in drivers.values())
        for cp in fleet[:4]:  # cars at wc1..wc4; wc5 and wc6 are free
            await cp.plug_in()

        readings = {device: await driver.read() for device, driver in drivers.items()}
        assert all(r.online for r in readings.values())
        assert [r.connected for r in readings.values()] == [True] * 4 + [False] * 2
        decisions = share(readings)
        await asyncio.gather(*(drivers[d].apply(decision) for d, decision in decisions.items()))

        # What each charger says it will obey, asked over the wire.
        composite = [
            await central.composite_schedule(f"cp{i}", 1, duration_s=int(LEASE_S) * 2)
            for i in range(1, 7)
        ]
        now_a = [periods[0][1] for periods in composite]
        assert now_a == [20.0] * 4 + [0.0] * 2
        assert sum(now_a) <= NETWORK_LIMIT_A
        assert all(periods[-1] == (int(LEASE_S), 13.3) for periods in composite)
        assert sum(cp.limit_a() for cp in fleet) <= NETWORK_LIMIT_A

        # The central system goes away; the chargers keep their lease, then fall back.
        await central.stop()
        await asyncio.gather(*(cp.disconnected.wait() for cp in fleet))
        assert [cp.limit_a() for cp in fleet] == [20.0] * 4 + [0.0] * 2
        clock.advance(LEASE_S)
        limits = [cp.limit_a() for cp in fleet]
        assert all(FAIR_A - 0.1 <= limit <= FAIR_A for limit in limits)
        assert sum(limits) <= NETWORK_LIMIT_A
        assert [(await d.read()).online for d in drivers.values()] == [False] * 6
        await stop_fleet(fleet)

    asyncio.run(scenario())
