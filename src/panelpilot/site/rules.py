"""Checks that relate several parts of a site file, each naming the field it is about.

Each check yields `(path, message)` where path is the location in the YAML document
(`("networks", 0, "network_limit_a")`), so the loader can turn it into a line number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from panelpilot.field import PANEL_LIMIT_MAX_A
from panelpilot.site.drivers import OcppDriverConfig
from panelpilot.site.model import Circuit, Site

# Re-exported (`x as x`): the settings lock, control/settings.py, imports these from here.
from panelpilot.site.sharing_limits import fair_fallback_a as fair_fallback_a
from panelpilot.site.sharing_limits import fallback_overloads as fallback_overloads
from panelpilot.site.sharing_limits import minimum_message as minimum_message
from panelpilot.site.sharing_limits import network_above_circuit as network_above_circuit
from panelpilot.site.sharing_limits import site_fallbacks_a

Path = tuple[str | int, ...]
Finding = tuple[Path, str]


def _circuit_paths(site: Site) -> dict[str, Path]:
    paths: dict[str, Path] = {}

    def visit(path: Path, children: tuple[Circuit, ...]) -> None:
        for i, child in enumerate(children):
            child_path = (*path, i)
            paths.setdefault(child.id, child_path)
            visit((*child_path, "children"), child.children)

    visit(("circuits",), site.circuits)
    return paths


def _parents(site: Site) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    for root in site.circuits:
        parents[root.id] = None
        for circuit, _ in root.walk():
            for child in circuit.children:
                parents[child.id] = circuit.id
    return parents


def is_within(parents: dict[str, str | None], circuit_id: str, ancestor_id: str) -> bool:
    """True when `circuit_id` is `ancestor_id` or lies below it in the tree."""
    node: str | None = circuit_id
    while node is not None:
        if node == ancestor_id:
            return True
        node = parents.get(node)
    return False


def check_ids(site: Site) -> Iterator[Finding]:
    """Every id is unique across circuits and devices, so decisions can name them."""
    seen: Counter[str] = Counter()
    paths = _circuit_paths(site)
    for cid, path in paths.items():
        seen[cid] += 1
        if seen[cid] > 1:
            yield (*path, "id"), f"id {cid!r} is used twice; ids must be unique"
    circuit_count = Counter(c.id for c, _ in site.all_circuits())
    for cid, n in circuit_count.items():
        if n > 1:
            yield ("circuits",), f"circuit id {cid!r} appears {n} times; ids must be unique"
    for section in ("networks", "chargers", "batteries", "solar"):
        for i, item in enumerate(getattr(site, section)):
            seen[item.id] += 1
            if seen[item.id] > 1:
                yield (section, i, "id"), f"id {item.id!r} is used twice; ids must be unique"


def check_tree(site: Site) -> Iterator[Finding]:
    """One service at the root; a child never allowed more than its parent."""
    if len(site.circuits) != 1:
        yield (
            ("circuits",),
            (
                f"{len(site.circuits)} root circuits; a site has exactly one root (the service), "
                "other circuits go under its children"
            ),
        )
    paths = _circuit_paths(site)
    for circuit, _ in site.all_circuits():
        for i, child in enumerate(circuit.children):
            if child.limit_a > circuit.limit_a:
                yield (
                    (*paths[circuit.id], "children", i, "limit_a"),
                    (
                        f"{child.limit_a:g} A is above its parent {circuit.id!r} limit of "
                        f"{circuit.limit_a:g} A; a child may carry at most its parent's limit"
                    ),
                )
        if circuit.breaker_a is not None and circuit.limit_a > circuit.breaker_a:
            yield (
                (*paths[circuit.id], "limit_a"),
                (f"{circuit.limit_a:g} A is above the circuit's breaker_a {circuit.breaker_a:g} A"),
            )


def check_references(site: Site) -> Iterator[Finding]:
    """Every device names a circuit (and network) that exists."""
    yield from _unknown_circuits(site)
    yield from _network_memberships(site)


def _unknown_circuits(site: Site) -> Iterator[Finding]:
    circuits = site.circuit_ids()
    allowed = ", ".join(sorted(circuits))
    for section in ("networks", "chargers", "batteries", "solar"):
        for i, item in enumerate(getattr(site, section)):
            if item.circuit not in circuits:
                yield (section, i, "circuit"), f"unknown circuit {item.circuit!r}; known: {allowed}"


def _network_memberships(site: Site) -> Iterator[Finding]:
    """A charger's network exists, and the charger is fed from the network's circuit."""
    circuits = site.circuit_ids()
    networks = {n.id: n for n in site.networks}
    parents = _parents(site)
    for i, ch in enumerate(site.chargers):
        if ch.network is None:
            continue
        found = networks.get(ch.network)
        if found is None:
            known = ", ".join(sorted(networks)) or "(no networks defined)"
            yield ("chargers", i, "network"), f"unknown network {ch.network!r}; known: {known}"
        elif ch.circuit in circuits and found.circuit in circuits:
            if not is_within(parents, ch.circuit, found.circuit):
                yield (
                    ("chargers", i, "circuit"),
                    (
                        f"charger is on circuit {ch.circuit!r}, outside its network's circuit "
                        f"{found.circuit!r}; a network's chargers must be fed from its circuit"
                    ),
                )


def check_chargers(site: Site) -> Iterator[Finding]:
    """min_a <= max_a, and a fallback is 0 or within the charger's range."""
    for i, ch in enumerate(site.chargers):
        if ch.min_a > ch.max_a:
            yield (
                ("chargers", i, "min_a"),
                (f"{ch.min_a:g} A is above max_a {ch.max_a:g} A; min_a must be 6..max_a"),
            )
        if ch.fallback_a is not None and ch.fallback_a != 0:
            if not ch.min_a <= ch.fallback_a <= ch.max_a:
                yield (
                    ("chargers", i, "fallback_a"),
                    (f"{ch.fallback_a:g} A is not 0 or within {ch.min_a:g}..{ch.max_a:g} A"),
                )
        if ch.network is not None and ch.fallback_a is not None:
            yield (
                ("chargers", i, "fallback_a"),
                ("a network member's fallback is network limit / size; remove fallback_a"),
            )


def check_networks(site: Site) -> Iterator[Finding]:
    """A network limit gives each member at least its minimum (seed: 6 A per unit)."""
    for i, net in enumerate(site.networks):
        members = site.network_members(net.id)
        if net.enabled and net.network_limit_a is None:
            yield (
                ("networks", i, "network_limit_a"),
                (
                    "no network current limit set; an enabled network needs one "
                    "(set network_limit_a, or enabled: false)"
                ),
            )
        if net.max_size is not None and len(members) > net.max_size:
            yield (
                ("networks", i, "max_size"),
                f"{len(members)} chargers are in network {net.id}, above its max_size "
                f"{net.max_size} (raise max_size or move chargers out)",
            )
        if net.network_limit_a is not None and members:
            need = sum(c.min_a for c in members)
            if net.network_limit_a < need:
                yield (
                    ("networks", i, "network_limit_a"),
                    minimum_message(net.network_limit_a, [c.min_a for c in members]),
                )


def check_wiring(site: Site) -> Iterator[Finding]:
    """A network limit fits its circuit and every circuit above it, and the fallbacks of every
    network and of chargers outside networks fit every circuit on their path (DESIGN 3.4)."""
    parents = _parents(site)
    limits = {c.id: c.limit_a for c, _ in site.all_circuits()}
    if any(c not in limits for c in {n.circuit for n in site.networks}):
        return  # an unknown circuit is reported by check_references
    bad_network = False
    for i, net in enumerate(site.networks):
        if net.network_limit_a is None:
            continue
        why = network_above_circuit(net.id, net.network_limit_a, net.circuit, parents, limits)
        if why is not None:
            bad_network = True
            yield ("networks", i, "network_limit_a"), why
    if bad_network or any(c.circuit not in limits for c in site.chargers):
        return
    paths = _circuit_paths(site)
    circuits = {c.id: c.circuit for c in site.chargers}
    for cid, why in fallback_overloads(site_fallbacks_a(site), circuits, parents, limits):
        yield (*paths[cid], "limit_a"), why


def check_pcs(site: Site) -> Iterator[Finding]:
    """PCS limits name things that exist and never exceed a protected panel's rating."""
    pcs = site.pcs
    circuits = {c.id: c for c, _ in site.all_circuits()}
    if pcs.panel_limit_a is not None and pcs.panel is None:
        yield ("pcs", "panel"), "a Panel Limit needs `panel`: the circuit whose busbar it protects"
    if pcs.panel is not None:
        panel = circuits.get(pcs.panel)
        if panel is None:
            yield ("pcs", "panel"), f"unknown circuit {pcs.panel!r}; known: {', '.join(circuits)}"
        else:
            if panel.meter is None:
                yield (
                    ("pcs", "panel"),
                    (
                        f"circuit {panel.id!r} has no meter; the Panel Limit needs the current "
                        "into the panel from the grid (set `meter` on that circuit)"
                    ),
                )
            rating = panel.busbar_a or panel.breaker_a
            if pcs.panel_limit_a is not None and rating is not None:
                if pcs.panel_limit_a > rating:
                    yield (
                        ("pcs", "panel_limit_a"),
                        (
                            f"{pcs.panel_limit_a:g} A is above the rating of panel {panel.id!r} "
                            f"({rating:g} A); the PCS setting must not exceed a controlled panel's "
                            f"rating (allowed 10..{min(rating, PANEL_LIMIT_MAX_A):g} A)"
                        ),
                    )
    if pcs.conductor_limit_a is not None and pcs.conductor_meter is None:
        yield (
            ("pcs", "conductor_meter"),
            ("a Conductor Limit needs `conductor_meter`: the meter of the conductor CTs"),
        )
    if pcs.export_limit_a is not None and pcs.export_meter is None:
        if not site.circuits or site.circuits[0].meter is None:
            yield (
                ("pcs", "export_meter"),
                (
                    "a Site Export Limit needs a site meter: set `export_meter` or a meter on "
                    "the root circuit"
                ),
            )


def check_drivers(site: Site) -> Iterator[Finding]:
    """Each driver names a device of a kind it can drive, and no device is driven twice."""
    chargers = {c.id for c in site.chargers}
    sunspec = site.meter_ids() | {b.id for b in site.batteries} | {s.id for s in site.solar}
    allowed = {
        "ocpp": ("a charger", chargers),
        "tesla_wc": ("a charger", chargers),
        "sunspec": ("a meter, battery or solar inverter", sunspec),
        "sim": ("a device", chargers | sunspec),
    }
    seen: set[tuple[str, str]] = set()
    cfg = site.control
    # A silent charger must be noticed, and the others lowered (J1772: 5 s), before its lease
    # lapses and it jumps to its fallback (DESIGN 3.5).
    notice_by_s = cfg.lease_s - cfg.response_s - 2 * cfg.period_s
    for i, driver in enumerate(site.drivers):
        if isinstance(driver, OcppDriverConfig) and driver.detection_s > notice_by_s:
            yield (
                ("drivers", i, "heartbeat_interval_s"),
                (
                    f"a silent charger would be noticed after {driver.detection_s:g} s, but its "
                    f"lease lapses after {cfg.lease_s:g} s: it must be noticed within lease_s - "
                    f"response_s - 2 x period_s = {notice_by_s:g} s (shorten heartbeat_interval_s "
                    "or offline_after_s, or lengthen control.lease_s)"
                ),
            )
        what, ids = allowed[driver.kind]
        if driver.device not in ids:
            known = ", ".join(sorted(ids)) or "none"
            yield (
                ("drivers", i, "device"),
                (
                    f"{driver.device!r} is not {what} of this site; a {driver.kind} driver can "
                    f"drive: {known}"
                ),
            )
        if (driver.kind, driver.device) in seen:
            yield (
                ("drivers", i, "device"),
                (f"{driver.device!r} already has a {driver.kind} driver; one per device"),
            )
        seen.add((driver.kind, driver.device))


def check_needs(site: Site) -> Iterator[Finding]:
    """Every charger the `needs:` defaults name exists."""
    chargers = {c.id for c in site.chargers}
    allowed = ", ".join(sorted(chargers)) or "none"
    for charger_id in site.needs.chargers:
        if charger_id not in chargers:
            yield (
                ("needs", "chargers", charger_id),
                f"unknown charger {charger_id!r}; known: {allowed}",
            )


def check_control(site: Site) -> Iterator[Finding]:
    """The clock error the leases allow for leaves each lease a useful life: a lease is renewed
    when `lease_s / 2 + clock_skew_s` is left, so at more than `lease_s / 4` a lease would be
    renewed within a quarter of its life (at `lease_s / 2`, the cycle it is sent), every
    charger sent a new profile nearly every cycle."""
    control = site.control
    if control.clock_skew_s > control.lease_s / 4:
        yield (
            ("control", "clock_skew_s"),
            f"{control.clock_skew_s:g} s is more than a quarter of lease_s "
            f"({control.lease_s:g} s): every lease would be renewed within a quarter of its "
            f"life; allowed: 0..{control.lease_s / 4:g} s, or raise lease_s to at least "
            f"{4 * control.clock_skew_s:g} s",
        )


CHECKS = (
    check_control,
    check_ids,
    check_tree,
    check_references,
    check_chargers,
    check_networks,
    check_wiring,
    check_pcs,
    check_drivers,
    check_needs,
)


def check_site(site: Site) -> list[Finding]:
    """Run every cross-field check; an empty list means the site is usable."""
    return [finding for check in CHECKS for finding in check(site)]
