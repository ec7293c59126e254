"""The `installation:` section: what the design checker needs to know about the hardware.

Optional in a site file; `panelpilot check` uses it (see docs/site-file-installation.md).
Only the shape of each value is checked here. Whether the design is supported (unit counts,
breaker sizes, fault current, the 120 % rule, ...) is the design checker's job: a design with a
line-side tap is a valid file that gets an error finding, so the checker can explain it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from panelpilot.site.base import SiteModel

Amps = Annotated[float, Field(ge=0)]
PositiveAmps = Annotated[float, Field(gt=0)]
KiloAmps = Annotated[float, Field(gt=0, le=200)]

Country = Literal["US", "CA"]
BreakerFamily = Literal["eaton-csr", "eaton-bwh", "square-d-qo", "other"]
RelayType = Literal["backup-switch", "backup-gateway-2", "gateway-3", "other"]
Interconnection = Literal["direct", "service-feeders", "line-side-tap", "load-side-tap"]
BatteryModel = Literal[
    "powerwall-3", "powerwall-3-expansion", "powerwall-2", "powerwall-plus", "third-party"
]
OcpdKind = Literal["breaker", "fuse"]


class MainBreaker(SiteModel):
    """The service main breaker: its rating, make and interrupting rating."""

    rating_a: PositiveAmps
    family: BreakerFamily = "other"
    interrupting_ka: KiloAmps | None = Field(
        default=None, description="Interrupting (short-circuit) rating in kA."
    )


class Service(SiteModel):
    """The utility service: rating, voltage, meter socket, available fault current."""

    rating_a: PositiveAmps | None = Field(
        default=None, description="Service rating; leave out when unknown (then loads count)."
    )
    voltage: str = Field(
        default="120/240", description='"120/240" for single/split-phase; else as given.'
    )
    meter_socket: str | None = Field(default=None, description='Meter socket form, e.g. "2S".')
    available_fault_current_ka: KiloAmps | None = None
    main_breaker: MainBreaker | None = None


class SiteRelay(SiteModel):
    """The device that isolates the site from the grid (Backup Switch / Gateway)."""

    type: RelayType
    interconnection: Interconnection = "direct"
    j_class_fuse_upstream: bool = False
    downstream_loads_a: Amps | None = Field(
        default=None, description="NEC load calculation of the loads behind the relay."
    )


class Ocpd(SiteModel):
    """An overcurrent protective device: a breaker or a fuse."""

    kind: OcpdKind = "breaker"
    rating_a: PositiveAmps
    fuse_class: str | None = Field(default=None, description='Fuse class, e.g. "RK1".')
    part: str | None = Field(default=None, description='Fuse part number, e.g. "KLNR060".')


class BatteryUnit(SiteModel):
    """One battery unit as installed."""

    model: BatteryModel
    max_continuous_a: PositiveAmps | None = Field(
        default=None,
        description="On-grid output option (48 | 41.7 | 31.7 | 24 A); default 48 for PW3.",
    )
    off_grid_boost: bool = Field(default=False, description="The 64 A / 15.4 kW off-grid option.")
    ocpd: Ocpd | None = None
    habitable_location: bool = Field(
        default=False, description="Installed in a habitable room (not allowed)."
    )


class PvString(SiteModel):
    """One PV string into a Powerwall 3 MPPT."""

    mcis: Annotated[int, Field(ge=0)] = Field(description="Mid-circuit interrupters on it.")
    mci_model: str | None = Field(default=None, description='"MCI-1", "MCI-2", ...')


class Pv(SiteModel):
    """DC solar wired into the Powerwall 3 units."""

    dc_kw: Annotated[float, Field(ge=0)]
    strings: tuple[PvString, ...] = ()
    optimizers: bool = Field(default=False, description="Third-party MLPE such as optimizers.")


class AcSolar(SiteModel):
    """An AC-coupled solar inverter."""

    kind: str = "third-party"
    rating_a: PositiveAmps | None = None
    controllable: bool = False
    ul1741: bool = True
    isolated: bool = Field(
        default=False, description="Completely isolated from the Powerwall system."
    )
    metered: bool | None = Field(default=None, description="Its production is monitored.")


class OtherSource(SiteModel):
    """Another generation or storage source on site (generator, other battery system)."""

    kind: str
    ul1741: bool = False
    isolated: bool = Field(
        default=False, description="Completely isolated from the Powerwall system."
    )


class Panel(SiteModel):
    """A panel (load center) and the supply breakers landed on its busbar."""

    id: str
    busbar_a: PositiveAmps
    main_breaker_a: PositiveAmps | None = None
    supply_breakers_a: tuple[PositiveAmps, ...] = Field(
        default=(), description="Breakers of sources the PCS does not control (705.12)."
    )
    controlled_supply_breakers_a: tuple[PositiveAmps, ...] = Field(
        default=(), description="Breakers of PCS-controlled sources (Powerwall outputs)."
    )
    pcs_controlled: bool = False
    panel_limit_a: float | None = Field(
        default=None, description="Panel Limit covering this panel (10..200 A), null = none."
    )
    backup: bool = Field(default=False, description="A backup load center.")


class ConductorCts(SiteModel):
    """The two CTs of a Conductor Limit and the OCPD the limit stands in for."""

    count: Annotated[int, Field(ge=0)] = 2
    oriented_like_site_cts: bool = True
    ocpd_a: PositiveAmps | None = Field(
        default=None, description="Equivalent overcurrent protection the limit replaces."
    )


class BackupLoad(SiteModel):
    """A load on the backup circuit."""

    name: str
    current_a: PositiveAmps
    automatic: bool = True


class EvCharger(SiteModel):
    """An EV charger as installed (hardware facts for the design checks)."""

    id: str | None = Field(default=None, description="Id of the charger in `chargers:`.")
    model: str = "gen3-wall-connector"
    firmware: str | None = None
    max_a: PositiveAmps | None = None
    breaker_a: PositiveAmps | None = None
    powershare: bool = False
    on_backup: bool = False
    panel: str | None = Field(default=None, description="Panel (id) its breaker lands in.")


class Installation(SiteModel):
    """Installation details for design checks (names are the site file's contract)."""

    country: Country = "US"
    backup: bool = True
    service: Service = Service()
    site_relay: SiteRelay | None = None
    batteries: tuple[BatteryUnit, ...] = ()
    pv: Pv | None = None
    ac_solar: tuple[AcSolar, ...] = ()
    other_sources: tuple[OtherSource, ...] = ()
    meters: tuple[str, ...] = ()
    panels: tuple[Panel, ...] = ()
    conductor_cts: ConductorCts | None = None
    backup_loads: tuple[BackupLoad, ...] = ()
    ev_chargers: tuple[EvCharger, ...] = ()
