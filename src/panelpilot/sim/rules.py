"""Checks that relate a scenario to its site, each naming the scenario field it is about."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from panelpilot.sim.scenario import Scenario
from panelpilot.site import Site

Path = tuple[str | int, ...]
Finding = tuple[Path, str]


def _known(ids: set[str] | list[str]) -> str:
    return ", ".join(sorted(ids)) or "(none in the site)"


def check_evs(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """Cars plug into chargers that exist, inside the run, one car per charger at a time."""
    chargers = {c.id for c in site.chargers}
    last_departure: dict[str, tuple[float, int]] = {}
    order = sorted(range(len(scenario.evs)), key=lambda i: scenario.evs[i].arrive_s)
    for i in order:
        ev = scenario.evs[i]
        if ev.charger not in chargers:
            yield (
                ("evs", i, "charger"),
                f"unknown charger {ev.charger!r}; known: {_known(chargers)}",
            )
            continue
        if ev.arrive_s >= scenario.duration_s:
            yield (
                ("evs", i, "arrive_s"),
                f"{ev.arrive_s:g} s is not before the end of the run ({scenario.duration_s:g} s)",
            )
        depart = ev.depart_s if ev.depart_s is not None else scenario.duration_s
        previous = last_departure.get(ev.charger)
        if previous is not None and ev.arrive_s < previous[0]:
            yield (
                ("evs", i, "arrive_s"),
                (
                    f"{ev.arrive_s:g} s: charger {ev.charger!r} still has evs[{previous[1]}] "
                    f"plugged in until {previous[0]:g} s; one car per charger at a time"
                ),
            )
        last_departure[ev.charger] = (depart, i)


def check_arrivals(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """Random arrivals name chargers that exist."""
    arrivals = scenario.ev_arrivals
    if arrivals is None or arrivals.chargers is None:
        return
    chargers = {c.id for c in site.chargers}
    for i, cid in enumerate(arrivals.chargers):
        if cid not in chargers:
            yield (
                ("ev_arrivals", "chargers", i),
                f"unknown charger {cid!r}; known: {_known(chargers)}",
            )


def check_loads(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """Loads sit on circuits that exist."""
    circuits = site.circuit_ids()
    for i, load in enumerate(scenario.loads):
        if load.circuit not in circuits:
            yield (
                ("loads", i, "circuit"),
                f"unknown circuit {load.circuit!r}; known: {_known(circuits)}",
            )


def check_sources(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """Solar and battery profiles name inverters of the site."""
    solar = {s.id for s in site.solar}
    for sid in scenario.solar:
        if sid not in solar:
            yield ("solar", sid), f"unknown solar inverter {sid!r}; known: {_known(solar)}"
    batteries = {b.id for b in site.batteries}
    for bid in scenario.batteries:
        if bid not in batteries:
            yield ("batteries", bid), f"unknown battery {bid!r}; known: {_known(batteries)}"
    meters = site.meter_ids()
    for mid in scenario.meters:
        if mid not in meters:
            yield ("meters", mid), f"unknown meter {mid!r}; known: {_known(meters)}"


def check_faults(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """Faults name devices and meters of the site and start inside the run."""
    devices = {c.id for c in site.chargers} | {b.id for b in site.batteries}
    devices |= {s.id for s in site.solar}
    meters = site.meter_ids()
    for i, fault in enumerate(scenario.faults):
        if fault.at_s >= scenario.duration_s:
            yield (
                ("faults", i, "at_s"),
                f"{fault.at_s:g} s is not before the end of the run ({scenario.duration_s:g} s)",
            )
        if fault.device is not None and fault.device not in devices:
            yield (
                ("faults", i, "device"),
                f"unknown device {fault.device!r}; known: {_known(devices)}",
            )
        if fault.meter is not None and fault.meter not in meters:
            yield ("faults", i, "meter"), f"unknown meter {fault.meter!r}; known: {_known(meters)}"


def check_timing(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """The step divides the controller period, so decisions land on steps."""
    period_s = site.control.period_s
    ratio = period_s / scenario.step_s
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        yield (
            ("step_s",),
            (
                f"{scenario.step_s:g} s does not divide the site's control.period_s "
                f"{period_s:g} s; use a step that does (e.g. {period_s:g})"
            ),
        )


def check_settings(scenario: Scenario, site: Site) -> Iterator[Finding]:
    """Settings changes name networks and chargers of the site and fall inside the run."""
    networks = {n.id for n in site.networks}
    chargers = {c.id for c in site.chargers}
    for i, change in enumerate(scenario.settings):
        if change.network not in networks:
            known = ", ".join(sorted(networks)) or "none"
            yield ("settings", i, "network"), f"unknown network {change.network!r}; known: {known}"
        for name in ("add", "remove"):
            value = getattr(change, name)
            if value is not None and value not in chargers:
                yield ("settings", i, name), f"unknown charger {value!r}"
        if change.at_s >= scenario.duration_s:
            yield (
                ("settings", i, "at_s"),
                (f"{change.at_s:g} s is not inside the run (duration_s {scenario.duration_s:g} s)"),
            )


CHECKS: tuple[Callable[[Scenario, Site], Iterator[Finding]], ...] = (
    check_settings,
    check_timing,
    check_evs,
    check_arrivals,
    check_loads,
    check_sources,
    check_faults,
)


def check_scenario(scenario: Scenario, site: Site) -> list[Finding]:
    """Run every scenario-to-site check; an empty list means the scenario can run."""
    return [finding for check in CHECKS for finding in check(scenario, site)]
