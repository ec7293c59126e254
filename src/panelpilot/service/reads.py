"""The read side of the service: the read models (`views`), built once per published change.

Every page and API read used to copy the controller's settings and replay the queued
commands, once per network and per charger. Here the inputs (the last cycle, the settings as
they will stand, the site, the drivers' health) are taken once per `Runtime.version` (a cycle
published, a command queued, a new site), and each part of the read model is built at most
once from them, on the first request that needs it; every request until the next change
shares it. The control thread does none of this work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from panelpilot.control.settings import fallback_a, membership
from panelpilot.control.state import ControllerState
from panelpilot.control.topology import Topology
from panelpilot.control.types import Alert, ChargerDecision, ChargerReading
from panelpilot.drivers.base import DeviceIdentity
from panelpilot.field import PANEL_LIMIT_DEFAULT_A, PANEL_LIMIT_MAX_A, PANEL_LIMIT_MIN_A
from panelpilot.service.energy import SessionEnergy
from panelpilot.service.event_log import LogPage, log_page
from panelpilot.service.limited import CycleFacts, LimitReason, limit_reason, network_reason
from panelpilot.service.panel import panel_view
from panelpilot.service.pcs_live import pcs_live
from panelpilot.service.read_parts import (
    NETWORK_DEVICE_KIND,
    battery_view,
    candidates,
    circuit_views,
    health_views,
    identities,
    kw,
    max_output,
    network_status,
    solar_view,
)
from panelpilot.service.runtime import CycleResult, Runtime
from panelpilot.service.settings import SettingsManager
from panelpilot.service.storage import EventRecord, SettingVersion, Storage
from panelpilot.service.views import (
    AlertView,
    ChargerView,
    CircuitView,
    DevicesView,
    HealthView,
    LiveView,
    MeterView,
    Nav,
    NetworkBrief,
    NetworkView,
    Overview,
    PanelView,
    PcsView,
    SettingsView,
    SiteAlertView,
)
from panelpilot.site.model import Site
from panelpilot.site.sharing_limits import network_max_size


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What one version of the read model is made from, taken together."""

    site: Site
    topology: Topology
    last: CycleResult | None
    settings: ControllerState  # networks and removals with the queued commands applied
    health: Mapping[str, HealthView]
    software: str
    energy_kwh: Mapping[str, float]  # session energy by charger
    identities: Mapping[str, DeviceIdentity]  # what each charger said about itself


def _charger(
    inputs: _Inputs,
    charger_id: str,
    network: str | None,
    decision: ChargerDecision | None,
    reading: ChargerReading | None,
    alerts: Iterable[Alert],
    reason: LimitReason | None,
) -> ChargerView:
    charger = inputs.topology.chargers[charger_id]
    health = inputs.health.get(charger_id)
    identity = inputs.identities.get(charger_id)
    online = reading is not None and reading.online
    current_a = reading.current_a if reading is not None and online else 0.0
    return ChargerView(
        id=charger_id,
        circuit=charger.circuit,
        network=network,
        controlled_by=f"panelpilot, network {network}" if network else "panelpilot",
        max_a=charger.max_a,
        current_a=current_a,
        power_w=current_a * inputs.site.voltage_v,
        session_energy_kwh=inputs.energy_kwh.get(charger_id, 0.0),
        limit_a=decision.limit_a if decision else 0.0,
        fallback_a=decision.fallback_a if decision else None,
        status=decision.status.value if decision else "unresponsive",
        online=online,
        connected=reading is not None and reading.connected,
        alerts=tuple(AlertView(a.code, a.severity, a.message) for a in alerts),
        driver_error=health.error if health else None,
        limited_by=reason.text if reason else None,
        limited_kind=reason.by if reason else None,
        power_kw=kw(current_a, inputs.site.voltage_v) or 0.0,
        firmware=identity.firmware if identity else None,
        serial_number=identity.serial_number if identity else None,
    )


class _Version:
    """The read model of one runtime version; each part is built when first asked for."""

    def __init__(self, version: int, inputs: _Inputs) -> None:
        self.version = version
        self.inputs = inputs

    @cached_property
    def alerts(self) -> tuple[Alert, ...]:
        """The last cycle's alerts."""
        last = self.inputs.last
        return () if last is None else last.decision.alerts

    @cached_property
    def facts(self) -> CycleFacts | None:
        """The last cycle as the "limited by" derivation reads it (None before the first)."""
        last = self.inputs.last
        if last is None:
            return None
        return CycleFacts(
            topology=self.inputs.topology,
            chargers=last.decision.chargers,
            readings=last.snapshot.chargers,
            circuits=last.decision.circuits,
            networks=last.decision.networks,
            member_of=membership(self.inputs.settings),
            resolution_a=self.inputs.site.control.resolution_a,
        )

    @cached_property
    def reasons(self) -> dict[str, LimitReason | None]:
        """Each charger's binding constraint, when something holds it."""
        facts = self.facts
        return {
            c.id: limit_reason(facts, c.id, c.max_a) if facts else None
            for c in self.inputs.site.chargers
        }

    @cached_property
    def chargers(self) -> dict[str, ChargerView]:
        """Every charger, in site file order."""
        last = self.inputs.last
        decisions = last.decision.chargers if last else {}
        readings = last.snapshot.chargers if last else {}
        member_of = membership(self.inputs.settings)
        by_device: dict[str | None, list[Alert]] = {}
        for a in self.alerts:
            by_device.setdefault(a.device, []).append(a)
        return {
            c.id: _charger(
                self.inputs,
                c.id,
                member_of.get(c.id),
                decisions.get(c.id),
                readings.get(c.id),
                by_device.get(c.id, ()),
                self.reasons[c.id],
            )
            for c in self.inputs.site.chargers
        }

    @cached_property
    def networks(self) -> dict[str, NetworkView]:
        """Every network of the site, in site file order."""
        return {n.id: self._network(n.id) for n in self.inputs.site.networks}

    def _network(self, network_id: str) -> NetworkView:
        inputs = self.inputs
        net = inputs.settings.networks[network_id]
        state = inputs.last.decision.networks.get(network_id) if inputs.last else None
        topo = inputs.topology
        in_network = set(net.members)
        devices = {network_id, *in_network}  # whose alerts count on the network's card
        fed = candidates(topo, network_id)
        enabled_now = net.enabled and state is not None and state.enabled
        facts = self.facts
        reason = (
            network_reason(facts, network_id, {m: self.reasons[m] for m in net.members})
            if facts and enabled_now
            else None
        )
        return NetworkView(
            id=network_id,
            enabled=net.enabled,
            state="Enabled" if net.enabled else "Disabled",
            network_limit_a=net.limit_a,
            size=len(net.members),
            max_devices=network_max_size(inputs.site, network_id),
            device_kind=NETWORK_DEVICE_KIND,
            # What the settings lock enforces (control.settings), not 6 A per member.
            min_limit_a=sum(topo.chargers[cid].min_a for cid in net.members),
            members=tuple(self.chargers[cid] for cid in net.members),
            addable=tuple(cid for cid in fed if cid not in in_network),
            current_a=state.current_a if state else 0.0,
            connections=state.connections if state else 0,
            status=network_status(net.enabled, state),
            active_alerts=sum(1 for a in self.alerts if a.device in devices),
            fallbacks_a={
                cid: fallback_a(topo, inputs.settings, cid, network_id) for cid in net.members
            },
            limited_by=reason.text if reason else None,
            power_kw=kw(state.current_a if state else 0.0, inputs.site.voltage_v) or 0.0,
        )

    @cached_property
    def overview(self) -> Overview:
        """The Home page."""
        site, settings = self.inputs.site, self.inputs.settings
        briefs = []
        for n in site.networks:
            net = settings.networks[n.id]
            briefs.append(NetworkBrief(n.id, len(net.members), net.limit_a, net.enabled))
        return Overview(
            site_name=site.name,
            version=self.inputs.software,
            max_output=max_output(site),
            chargers=len(site.chargers),
            networks=tuple(briefs),
            alerts=tuple(
                SiteAlertView(a.code, a.severity, a.message, a.device) for a in self.alerts
            ),
        )

    @cached_property
    def circuits(self) -> tuple[CircuitView, ...]:
        """Every circuit's current against its limit, parents first (`read_parts`)."""
        return circuit_views(self.inputs.site, self.inputs.topology, self.inputs.last)

    @cached_property
    def pcs(self) -> PcsView:
        """The PCS settings in effect."""
        pcs = self.inputs.site.pcs
        return PcsView(
            panel=pcs.panel,
            panel_limit_a=pcs.panel_limit_a,
            panel_limit_default_a=PANEL_LIMIT_DEFAULT_A,
            panel_limit_min_a=PANEL_LIMIT_MIN_A,
            panel_limit_max_a=PANEL_LIMIT_MAX_A,
            conductor_limit_a=pcs.conductor_limit_a,
            conductor_meter=pcs.conductor_meter,
            export_limit_a=pcs.export_limit_a,
        )

    @cached_property
    def devices(self) -> DevicesView:
        """Every device with its last reading, decision and driver health."""
        site, last = self.inputs.site, self.inputs.last
        meters = last.snapshot.meters if last else {}
        batteries = last.decision.batteries if last else {}
        solar = last.decision.solar if last else {}
        bat_r, sol_r = (last.snapshot.batteries, last.snapshot.solar) if last else ({}, {})
        return DevicesView(
            chargers=tuple(self.chargers.values()),
            meters={m: MeterView(meters.get(m)) for m in sorted(site.meter_ids())},
            batteries={
                b.id: battery_view(batteries.get(b.id), bat_r.get(b.id)) for b in site.batteries
            },
            solar={s.id: solar_view(solar.get(s.id), sol_r.get(s.id)) for s in site.solar},
            health=self.inputs.health,
        )

    @cached_property
    def panel(self) -> PanelView:
        """The Panel Limit's panel current (seeds/panel-limit.txt), as the limit counts it."""
        last = self.inputs.last
        return panel_view(self.inputs.site, self.inputs.topology, last.snapshot if last else None)


class Reads:
    """What the web reads, and only that: read models, the event log, settings history.

    Safe from any thread: the inputs are what the runtime published, taken through its
    thread-safe doors, and a built version is never changed.
    """

    def __init__(
        self,
        runtime: Runtime,
        settings: SettingsManager,
        storage: Storage,
        software: str,
        energy: SessionEnergy | None = None,
    ) -> None:
        self._runtime = runtime
        self._energy = energy
        self._settings = settings
        self._storage = storage
        self._software = software
        self._lock = threading.Lock()
        self._current: _Version | None = None

    def _now(self) -> _Version:
        # The version is read before the inputs: a version built from inputs newer than its
        # number is rebuilt at the next request, never one older.
        version = self._runtime.version
        with self._lock:
            current = self._current
            if current is None or current.version != version:
                current = _Version(version, self._inputs())
                self._current = current
            return current

    def _inputs(self) -> _Inputs:
        runtime = self._runtime
        return _Inputs(
            site=runtime.site,
            topology=runtime.controller.topology,
            last=runtime.last,
            settings=self._settings.state_view(),
            health=health_views(runtime.supervisors),
            software=self._software,
            energy_kwh=self._energy.kwh() if self._energy is not None else {},
            identities=identities(runtime.drivers.chargers),
        )

    def site(self) -> Site:
        """The site as loaded, with the PCS settings in effect."""
        return self._runtime.site

    def nav(self) -> Nav:
        """Every page's header links (from the site alone: the sign-in page builds nothing)."""
        site = self._runtime.site
        return Nav(tuple(n.id for n in site.networks), tuple(c.id for c in site.chargers))

    def overview(self) -> Overview:
        """The Home page."""
        return self._now().overview

    def networks(self) -> tuple[NetworkView, ...]:
        """Every network, in site file order."""
        return tuple(self._now().networks.values())

    def network(self, network_id: str) -> NetworkView | None:
        """One network, or None when the site has no such network."""
        return self._now().networks.get(network_id)

    def chargers(self) -> tuple[ChargerView, ...]:
        """Every charger, in site file order."""
        return tuple(self._now().chargers.values())

    def charger(self, charger_id: str) -> ChargerView | None:
        """One charger, or None when the site has no such charger."""
        return self._now().chargers.get(charger_id)

    def live(self) -> LiveView:
        """The Live page as first drawn."""
        now, last = self._now(), self._now().inputs.last
        snap, decision = (last.snapshot, last.decision) if last else (None, None)
        pcs = pcs_live(now.inputs.site, now.panel, snap, decision)
        return LiveView(now.circuits, tuple(now.chargers.values()), now.inputs.site.voltage_v, pcs)

    def pcs(self) -> PcsView:
        """The PCS settings in effect."""
        return self._now().pcs

    def panel(self) -> PanelView:
        """The Panel Limit's panel current against the limit."""
        return self._now().panel

    def devices(self) -> DevicesView:
        """Every device with its last reading, decision and driver health."""
        return self._now().devices

    def settings(self, history_limit: int) -> SettingsView:
        """The settings in effect and the newest `history_limit` versions."""
        now = self._now()
        return SettingsView(now.pcs, now.networks, self.history(history_limit))

    def history(self, limit: int, key: str | None = None) -> tuple[SettingVersion, ...]:
        """Settings versions (of one setting, when `key` is given), newest first."""
        return tuple(self._storage.setting_history(key, limit=limit))

    def last_change(self, key: str) -> SettingVersion | None:
        """The newest version of one setting, if it ever changed."""
        newest = self._storage.setting_history(key, limit=1)
        return newest[0] if newest else None

    def log(self, show: str, before_id: int | None = None) -> LogPage:
        """A page of the event log for the Events page (`event_log`)."""
        return log_page(self._storage, show, before_id)

    def events(self, limit: int, before_id: int | None = None) -> tuple[EventRecord, ...]:
        """The event log, newest first (page backwards with `before_id`)."""
        return tuple(self._storage.events(limit, before_id))
