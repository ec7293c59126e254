"""The site model: the electrical tree, its devices, its limits, as validated immutable values.

Field names are the site file's contract (DESIGN.md section 2). Checks that need one field
live here as pydantic constraints; checks that relate several parts of the file (references,
the 6 A per charger minimum, the Panel Limit against the panel rating) live in
`panelpilot.site.rules` so that each problem can name the exact field it is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, model_validator

from panelpilot.field import (
    J1772_MIN_A,
    J1772_RESPONSE_S,
    PANEL_LIMIT_DEFAULT_A,
    PANEL_LIMIT_MAX_A,
    PANEL_LIMIT_MIN_A,
)
from panelpilot.site.base import SiteModel
from panelpilot.site.drivers import DriverConfig
from panelpilot.site.installation import Installation
from panelpilot.site.mqtt import MqttConfig
from panelpilot.site.needs import NeedsConfig

Amps = Annotated[float, Field(ge=0)]
PositiveAmps = Annotated[float, Field(gt=0)]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]

# Panel Limit setting range and default (seeds/panel-limit.txt, "Configuring Panel Limits").


_Model = SiteModel


class Circuit(_Model):
    """A node of the electrical tree: a service, feeder, panel or branch circuit."""

    id: Ident
    limit_a: PositiveAmps = Field(description="Continuous current this circuit must stay under.")
    breaker_a: PositiveAmps | None = Field(
        default=None, description="Rating of its overcurrent device (trip model, design checks)."
    )
    busbar_a: PositiveAmps | None = Field(
        default=None, description="Busbar rating when the circuit is a panel (Panel Limit check)."
    )
    meter: Ident | None = Field(
        default=None, description="Meter measuring the current through this circuit."
    )
    children: tuple[Circuit, ...] = ()

    def walk(self, depth: int = 0) -> Iterator[tuple[Circuit, int]]:
        """Yield this circuit and every descendant with its depth, parents first."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


class Network(_Model):
    """A power sharing network: chargers on one circuit sharing a network limit."""

    id: Ident
    circuit: Ident
    network_limit_a: PositiveAmps | None = Field(
        default=None, description='"Max network current"; required while enabled.'
    )
    enabled: bool = True
    max_size: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description='"Network Size" at most: the chargers it may hold ("Add ... n / max '
        'Devices"). Default 6, a network of Gen 3 Wall Connectors (seed), or the number of '
        "chargers the site file puts in it where that is more; set it for other chargers.",
    )


class Charger(_Model):
    """An EV charger (EVSE) whose pilot current panelpilot sets."""

    id: Ident
    circuit: Ident
    network: Ident | None = None
    max_a: Annotated[float, Field(ge=J1772_MIN_A, le=80)] = Field(
        description="Installation max output current."
    )
    min_a: Annotated[float, Field(ge=J1772_MIN_A, le=80)] = J1772_MIN_A
    priority: int = Field(
        default=0,
        ge=-1_000_000,
        le=1_000_000,
        description="Higher is served first when current is short (-1,000,000..1,000,000).",
    )
    fallback_a: Amps | None = Field(
        default=None,
        description="Fallback for a charger outside any network (default: min_a).",
    )


class Battery(_Model):
    """A battery inverter; + discharge, - charge."""

    id: Ident
    circuit: Ident
    max_discharge_a: Amps
    max_charge_a: Amps


class Solar(_Model):
    """A solar inverter; controllable ones can be curtailed."""

    id: Ident
    circuit: Ident
    max_a: Amps
    controllable: bool = True


class Pcs(_Model):
    """Power Control System limits (NEC 705.13)."""

    panel: Ident | None = Field(
        default=None, description="Circuit (panel/busbar) the Panel Limit protects."
    )
    panel_limit_a: Annotated[float, Field(ge=PANEL_LIMIT_MIN_A, le=PANEL_LIMIT_MAX_A)] | None = (
        Field(default=None, description="10..200 A; 80 A when `panel` is set without a value.")
    )
    conductor_limit_a: PositiveAmps | None = None
    conductor_meter: Ident | None = None
    export_limit_a: Amps | None = None
    export_meter: Ident | None = Field(
        default=None, description="Meter for the export limit; default the root circuit's."
    )
    # How the caps move (docs/control.md, "How the caps move"): down at once when a threshold
    # would be crossed; up only after a hold that doubles with every reversal, at most one
    # rating per `raise_s`, and only to `deadband_pct` of the limit below each threshold.
    hold_s: Annotated[float, Field(ge=1, le=3600)] = 30.0
    raise_s: Annotated[float, Field(ge=1, le=600)] = 20.0
    deadband_pct: Annotated[float, Field(ge=0, le=5)] = 2.0

    @model_validator(mode="before")
    @classmethod
    def _default_panel_limit(cls, data: Any) -> Any:
        # A panel named without a value gets the 80 A default; an explicit null disables it.
        if isinstance(data, dict) and data.get("panel") is not None and "panel_limit_a" not in data:
            return {**data, "panel_limit_a": PANEL_LIMIT_DEFAULT_A}
        return data


class ControlSettings(_Model):
    """Timing and margins of the control loop."""

    period_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    margin_a: Annotated[float, Field(ge=0, le=50)] = 1.0
    # SAE J1772: an EV follows a pilot change within 5 s.
    response_s: Annotated[float, Field(gt=0, le=60)] = J1772_RESPONSE_S
    lease_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # How far a charger's clock may be from the controller's (field chargers are seconds off
    # and drift): every lease end is counted as happening up to this much earlier or later.
    clock_skew_s: Annotated[float, Field(ge=0, le=300)] = 10.0
    probe_s: Annotated[float, Field(gt=0)] = 60.0
    probe_max_s: Annotated[float, Field(gt=0)] = 900.0
    rotation_s: Annotated[float, Field(gt=0)] = 900.0
    standby_test_max_s: Annotated[float, Field(gt=0)] = 3600.0
    resolution_a: Annotated[float, Field(gt=0, le=6)] = 1.0
    headroom_a: Annotated[float, Field(gt=0, le=16)] = 2.0


class Site(_Model):
    """A whole site: one electrical tree and everything on it."""

    name: str = "site"
    voltage_v: Annotated[float, Field(gt=0, le=1000)] = 240.0
    circuits: tuple[Circuit, ...] = Field(min_length=1)
    networks: tuple[Network, ...] = ()
    chargers: tuple[Charger, ...] = ()
    batteries: tuple[Battery, ...] = ()
    solar: tuple[Solar, ...] = ()
    pcs: Pcs = Pcs()
    control: ControlSettings = ControlSettings()
    installation: Installation | None = None
    drivers: tuple[DriverConfig, ...] = ()
    mqtt: MqttConfig | None = None
    needs: NeedsConfig = NeedsConfig()

    def all_circuits(self) -> Iterator[tuple[Circuit, int]]:
        """Every circuit with its depth, parents before children."""
        for root in self.circuits:
            yield from root.walk()

    def circuit_ids(self) -> set[str]:
        """Ids of every circuit in the tree."""
        return {c.id for c, _ in self.all_circuits()}

    def network_members(self, network_id: str) -> tuple[Charger, ...]:
        """Chargers whose `network` names this network, in file order."""
        return tuple(c for c in self.chargers if c.network == network_id)

    def meter_ids(self) -> set[str]:
        """Every meter the site names (on circuits and in the PCS section)."""
        ids = {c.meter for c, _ in self.all_circuits() if c.meter}
        ids |= {m for m in (self.pcs.conductor_meter, self.pcs.export_meter) if m}
        return ids
