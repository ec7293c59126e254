"""A tiny closed loop for example tests: cars draw min(limit, what they want), meters add up."""

from __future__ import annotations

from dataclasses import dataclass, field

from panelpilot.control import (
    BatteryReading,
    ChargerReading,
    ChargingNeed,
    Command,
    Controller,
    Decision,
    Snapshot,
    SolarReading,
)
from panelpilot.site import Site, load_site_text


@dataclass
class Loop:
    """Runs a controller against cars that follow their limit at the next step."""

    site: Site
    wants_a: dict[str, float] = field(default_factory=dict)  # car draw if offered enough
    offline: set[str] = field(default_factory=set)
    load_a: dict[str, float] = field(default_factory=dict)  # uncontrolled load per meter
    lost: set[str] = field(default_factory=set)
    t: float = 0.0
    controller: Controller | None = None
    limits: dict[str, float] = field(default_factory=dict)
    needs: dict[str, ChargingNeed] = field(default_factory=dict)  # what each car says it needs

    def __post_init__(self) -> None:
        self.controller = Controller(self.site)

    def draw_a(self, cid: str) -> float:
        want = self.wants_a.get(cid, 0.0)
        limit = self.limits.get(cid, 0.0)
        return min(want, limit) if limit >= 6 else 0.0

    def snapshot(self, commands: tuple[Command, ...] = ()) -> Snapshot:
        chargers = {
            c.id: ChargerReading(
                True, c.id in self.wants_a, self.draw_a(c.id), need=self.needs.get(c.id)
            )
            for c in self.site.chargers
            if c.id not in self.offline
        }
        meters: dict[str, float | None] = {}
        assert self.controller is not None
        topo = self.controller.topology
        for circuit_id in topo.order:
            meter = topo.circuits[circuit_id].meter
            if not meter:
                continue
            if meter in self.lost:
                meters[meter] = None
                continue
            drawn = sum(r.current_a for cid, r in chargers.items() if circuit_id in topo.paths[cid])
            meters[meter] = drawn + self.load_a.get(meter, 0.0)
        return Snapshot(self.t, meters, chargers, commands=commands)

    def step(self, dt: float = 1.0, commands: tuple[Command, ...] = ()) -> Decision:
        """Advance time, measure, decide; cars follow the new limits from the next step."""
        assert self.controller is not None
        self.t += dt
        decision = self.controller.decide(self.snapshot(commands))
        self.limits = {k: v.limit_a for k, v in decision.chargers.items()}
        return decision

    def settle(self, seconds: float = 20.0) -> Decision:
        """Run long enough for every change to settle (J1772 response + demand estimates)."""
        decision = self.step()
        for _ in range(int(seconds)):
            decision = self.step()
        return decision


def network_site(
    limit_a: float, size: int, max_a: float, circuit_limit_a: float = 400, meter: bool = True
) -> Site:
    """A dedicated panel with one network of `size` chargers."""
    chargers = "".join(
        f"  - {{id: wc{i + 1}, circuit: panel, network: net, max_a: {max_a}}}\n"
        for i in range(size)
    )
    return load_site_text(
        f"""
circuits:
  - id: panel
    limit_a: {circuit_limit_a}
    {"meter: site" if meter else ""}
networks:
  - {{id: net, circuit: panel, network_limit_a: {limit_a}}}
chargers:
{chargers}
"""
    )


def limits(decision: Decision) -> list[float]:
    """Limits in charger order."""
    return [c.limit_a for c in decision.chargers.values()]


def with_pcs(site_yaml: str) -> Site:
    """Load a site from YAML text (PCS tests)."""
    return load_site_text(site_yaml)


def pcs_snapshot(
    t: float,
    meters: dict[str, float | None],
    batteries: dict[str, float],
    solar: dict[str, float],
    soc: float = 0.5,
) -> Snapshot:
    """A snapshot with battery and solar currents only."""
    return Snapshot(
        t,
        meters,
        batteries={k: BatteryReading(True, v, soc) for k, v in batteries.items()},
        solar={k: SolarReading(True, v) for k, v in solar.items()},
    )
