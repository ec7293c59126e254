"""The `drivers:` section: how each device is reached (OCPP, SunSpec, Tesla WC, simulated).

Each entry names the `device` it drives (the id of a charger, meter, battery or solar
inverter of the site) and a `kind` that selects its address fields:

```yaml
drivers:
  - {kind: ocpp, device: wc1, charge_point_id: WC-0001}
  - {kind: sunspec, device: site, host: 192.0.2.10, port: 502, unit_id: 1}
  - {kind: tesla_wc, device: wc2, host: 192.0.2.20}
  - {kind: sim, device: pw1}
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from panelpilot.site.base import SiteModel

# The same shape as a site id (panelpilot.site.model.Ident, which imports this module).
DeviceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# OCPP 1.6 CiString20 identity, also the last path segment of ws://host:port/ocpp/<id>.
ChargePointId = Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_.:-]+$")]
Port = Annotated[int, Field(ge=1, le=65535)]
# Slack on top of two heartbeat intervals before a silent charger counts as offline.
OFFLINE_GRACE_S = 2.0
Host = Annotated[str, Field(min_length=1, max_length=253)]


class OcppDriverConfig(SiteModel):
    """A charger that dials in to panelpilot's OCPP central system (1.6J or 2.0.1).

    The charger connects to `ws://HOST:PORT/ocpp/<charge_point_id>` with HTTP Basic Auth
    (OCPP security profile 1); its password is set with `panelpilot chargers add`.
    """

    kind: Literal["ocpp"]
    device: DeviceId = Field(description="Id of the charger in this site file.")
    charge_point_id: ChargePointId | None = Field(
        default=None, description="Identity the charge point connects with (default: device)."
    )
    connector_id: Annotated[int, Field(ge=1, le=16)] = Field(
        default=1, description="Connector (1.6) or EVSE (2.0.1) this device is."
    )
    heartbeat_interval_s: Annotated[int, Field(ge=1, le=3600)] = Field(
        default=10,
        description="Heartbeat interval the charger is told at boot; short enough that a "
        "silent charger is noticed before its lease lapses.",
    )
    phases: Literal[1, 3] = Field(
        default=1,
        description="Phases the charger draws on: a charger that takes limits only in W is "
        "sent amps x the site's voltage_v x phases.",
    )
    verify_composite: bool = Field(
        default=True,
        description="Ask the charger's composite schedule (GetCompositeSchedule) after each "
        "acknowledged commitment; counted at its max until it matches.",
    )
    offline_after_s: Annotated[float, Field(gt=0, le=7200)] | None = Field(
        default=None,
        description="Silence after which the charger counts as offline "
        "(default: 2 heartbeat intervals + 2 s).",
    )

    @property
    def detection_s(self) -> float:
        """How long a charger that went silent may go unnoticed."""
        return self.offline_after_s or 2 * self.heartbeat_interval_s + OFFLINE_GRACE_S

    @property
    def identity(self) -> str:
        """The charge point identity it connects with."""
        return self.charge_point_id or self.device


class SunSpecDriverConfig(SiteModel):
    """A meter, battery or inverter reached over Modbus TCP with SunSpec models."""

    kind: Literal["sunspec"]
    device: DeviceId = Field(description="Id of a meter, battery or solar inverter.")
    host: Host
    port: Port = 502
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    base_address: Annotated[int, Field(ge=0, le=65535)] | None = Field(
        default=None, description="Where the SunSpec map starts (default: look at 40000, 0, 50000)."
    )
    invert: bool = Field(default=False, description="Meters: CTs face the other way.")
    voltage_v: Annotated[float, Field(gt=0, le=1000)] | None = Field(
        default=None, description="For amps <-> % caps (default: the site's voltage_v)."
    )
    revert_s: Annotated[int, Field(ge=0, le=86400)] = Field(
        default=0, description="Model 704 devices fall back to revert_cap_a after this (0 = off)."
    )
    revert_cap_a: Annotated[float, Field(ge=0)] = 0.0


class TeslaWcDriverConfig(SiteModel):
    """A Tesla Gen 3 Wall Connector whose vitals are read over local HTTP (monitoring)."""

    kind: Literal["tesla_wc"]
    device: DeviceId = Field(description="Id of the charger it monitors.")
    host: Host
    port: Port = 80
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 2.0


class SimDriverConfig(SiteModel):
    """A device played by panelpilot's simulator (demo and tests)."""

    kind: Literal["sim"]
    device: DeviceId


DriverConfig = Annotated[
    OcppDriverConfig | SunSpecDriverConfig | TeslaWcDriverConfig | SimDriverConfig,
    Field(discriminator="kind"),
]
"""How one device is reached: one model per `kind`."""
