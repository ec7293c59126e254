"""The small pure parts of the read models: kW at the site's voltage, statuses, the Live
page's circuits (a circuit without a meter shows the sum of the chargers below it)."""

from __future__ import annotations

from collections.abc import Mapping

from panelpilot.control.topology import Topology
from panelpilot.control.types import (
    BatteryDecision,
    BatteryReading,
    NetworkState,
    SolarDecision,
    SolarReading,
)
from panelpilot.drivers.base import ChargerDriver, DeviceIdentity, Identified
from panelpilot.service.runtime import CycleResult
from panelpilot.service.supervisor import Supervisor
from panelpilot.service.views import BatteryView, CircuitView, HealthView, SolarView
from panelpilot.site.model import Site

NETWORK_DEVICE_KIND = "Wall Connector"  # what the seed's page adds


def health_views(supervisors: Mapping[str, Supervisor]) -> dict[str, HealthView]:
    """Each driver's health as the pages show it, by device id."""
    return {
        k: HealthView(s.health.up, s.health.failures, s.health.last_error)
        for k, s in supervisors.items()
    }


def identities(chargers: Mapping[str, ChargerDriver]) -> dict[str, DeviceIdentity]:
    """What each charger said about itself (`Identified` drivers: OCPP BootNotification, a
    Wall Connector's version API), by charger id; a driver that fails to say is left out, so
    a page never fails for it."""
    out: dict[str, DeviceIdentity] = {}
    for cid, driver in chargers.items():
        if not isinstance(driver, Identified):
            continue
        try:
            identity = driver.identity()
        except Exception:  # a driver's bug must not fail a page
            continue
        if identity is not None:
            out[cid] = identity
    return out


def kw(current_a: float | None, voltage_v: float) -> float | None:
    """Amps as kW at the site's voltage (None stays None)."""
    return None if current_a is None else round(current_a * voltage_v / 1000.0, 2)


def network_status(enabled: bool, state: NetworkState | None) -> str:
    """The settings are newer than the last decision by up to a cycle: a network just
    disabled says so at once, one just enabled says it is starting until its first cycle."""
    if not enabled:
        return "disabled"
    if state is None:
        return "idle"
    return "enabling" if not state.enabled else state.status.value


def max_output(site: Site) -> str:
    """The Home page's Max output current: one value, or the range of the chargers'."""
    maxes = sorted({c.max_a for c in site.chargers})
    if not maxes:
        return "none"
    if len(maxes) == 1:
        return f"{maxes[0]:g} A"
    return f"{maxes[0]:g} A to {maxes[-1]:g} A"


def candidates(topology: Topology, network_id: str) -> tuple[str, ...]:
    """Chargers that could be in a network: those fed from its circuit."""
    circuit = topology.network_circuits.get(network_id)
    return tuple(
        cid
        for cid, c in topology.chargers.items()
        if circuit is None or topology.within(c.circuit, circuit)
    )


def battery_view(d: BatteryDecision | None, r: BatteryReading | None) -> BatteryView | None:
    """A battery's caps and what it reports, None before its first decision."""
    if d is None:
        return None
    online = r is not None and r.online
    current_a, soc = (r.current_a, r.soc) if r is not None and online else (None, None)
    return BatteryView(d.max_discharge_a, d.charge_request_a, d.max_charge_a, current_a, soc)


def solar_view(d: SolarDecision | None, r: SolarReading | None) -> SolarView | None:
    """An inverter's cap and its output, None before its first decision."""
    if d is None:
        return None
    return SolarView(d.max_a, r.current_a if r is not None and r.online else None)


def _charger_sums(
    topo: Topology, last: CycleResult | None
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Per circuit, what the online chargers below it draw, and which chargers are below it."""
    own: dict[str, float] = {}
    below: dict[str, list[str]] = {cid: [] for cid in topo.order}
    for cid, charger in topo.chargers.items():
        for circuit_id in topo.paths[cid]:
            below[circuit_id].append(cid)
        reading = last.snapshot.chargers.get(cid) if last else None
        if reading is not None and reading.online:
            own[charger.circuit] = own.get(charger.circuit, 0.0) + reading.current_a
    return topo.roll_up(own), below


def circuit_views(site: Site, topo: Topology, last: CycleResult | None) -> tuple[CircuitView, ...]:
    """Every circuit's current against its limit, parents first; a circuit without a meter
    shows the sum of the chargers below it, marked as computed."""
    states = last.decision.circuits if last else {}
    summed, below = _charger_sums(topo, last)
    out = []
    for circuit, depth in site.all_circuits():
        state = states.get(circuit.id)
        current_a = state.current_a if state else None
        computed = circuit.meter is None and last is not None
        if computed:
            current_a = round(summed[circuit.id], 3)
        out.append(
            CircuitView(
                circuit.id, depth, circuit.limit_a, current_a,
                state.allocated_a if state else 0.0, computed, tuple(below[circuit.id]),
                kw(current_a, site.voltage_v),
            )
        )  # fmt: skip
    return tuple(out)
