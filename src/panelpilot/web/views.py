"""What the pages and the API show, computed once from the running service (plain data)."""

from __future__ import annotations

from typing import Any

from panelpilot.control.state import ControllerState
from panelpilot.control.types import Alert
from panelpilot.service.service import Service
from panelpilot.site.model import PANEL_LIMIT_DEFAULT_A


def _alerts(service: Service) -> tuple[Alert, ...]:
    last = service.runtime.last
    return () if last is None else last.decision.alerts


def candidates(service: Service, network_id: str) -> list[str]:
    """Chargers that could be in a network: those fed from its circuit."""
    topo = service.runtime.controller.topology
    circuit = topo.network_circuits.get(network_id)
    return [
        cid
        for cid, c in topo.chargers.items()
        if circuit is None or topo.within(c.circuit, circuit)
    ]


def network_view(service: Service, network_id: str) -> dict[str, Any]:
    """A network's settings, status and members (Power Sharing page, API)."""
    net = service.settings.network(network_id)
    last = service.runtime.last
    state = last.decision.networks.get(network_id) if last else None
    view = service.settings.state_view()
    members = [charger_view(service, cid, view) for cid in net.members]
    in_network = set(net.members)
    addable = [cid for cid in candidates(service, network_id) if cid not in in_network]
    return {
        "id": network_id,
        "enabled": net.enabled,
        "state": "Enabled" if net.enabled else "Disabled",
        "network_limit_a": net.network_limit_a,
        "size": len(net.members),
        "max_devices": len(candidates(service, network_id)),
        "min_limit_a": 6.0 * len(net.members),
        "members": members,
        "addable": addable,
        "current_a": state.current_a if state else 0.0,
        "connections": state.connections if state else 0,
        # The settings are newer than the last decision by up to a cycle: a disabled network
        # says so at once.
        "status": "disabled" if not net.enabled else (state.status.value if state else "idle"),
        "active_alerts": sum(1 for a in _alerts(service) if a.device in (network_id, *in_network)),
        "fallbacks_a": net.fallbacks_a,
    }


def charger_view(
    service: Service, charger_id: str, view: ControllerState | None = None
) -> dict[str, Any]:
    """One charger: who controls it, current draw x A / y A, alerts, status.

    `view` is the settings as they stand (`SettingsManager.state_view`), when already made.
    """
    topo = service.runtime.controller.topology
    charger = topo.chargers[charger_id]
    last = service.runtime.last
    decision = last.decision.chargers.get(charger_id) if last else None
    reading = last.snapshot.chargers.get(charger_id) if last else None
    view = view if view is not None else service.settings.state_view()
    network = next((n for n, m in view.networks.items() if charger_id in m.members), None)
    health = service.runtime.supervisors.get(charger_id)
    alerts = [a for a in _alerts(service) if a.device == charger_id]
    return {
        "id": charger_id,
        "circuit": charger.circuit,
        "network": network,
        "controlled_by": f"panelpilot, network {network}" if network else "panelpilot",
        "max_a": charger.max_a,
        "current_a": reading.current_a if reading and reading.online else 0.0,
        "limit_a": decision.limit_a if decision else 0.0,
        "fallback_a": decision.fallback_a if decision else None,
        "status": decision.status.value if decision else "unresponsive",
        "online": bool(reading and reading.online),
        "connected": bool(reading and reading.connected),
        "alerts": [{"code": a.code, "severity": a.severity, "message": a.message} for a in alerts],
        "driver_error": health.health.last_error if health else None,
    }


def circuits_view(service: Service) -> list[dict[str, Any]]:
    """Every circuit's current against its limit, parents first."""
    last = service.runtime.last
    out = []
    for circuit, depth in service.runtime.site.all_circuits():
        state = last.decision.circuits.get(circuit.id) if last else None
        out.append(
            {
                "id": circuit.id,
                "depth": depth,
                "limit_a": circuit.limit_a,
                "current_a": state.current_a if state else None,
                "allocated_a": state.allocated_a if state else 0.0,
            }
        )
    return out


def home_view(service: Service) -> dict[str, Any]:
    """The Home page: software, installation, power sharing summary."""
    site = service.runtime.site
    maxes = sorted({c.max_a for c in site.chargers})
    max_output = (
        "none"
        if not maxes
        else f"{maxes[0]:g} A"
        if len(maxes) == 1
        else f"{maxes[0]:g} A to {maxes[-1]:g} A"
    )
    networks = [service.settings.network(n.id) for n in site.networks]
    return {
        "site_name": site.name,
        "version": service.version,
        "max_output": max_output,
        "chargers": len(site.chargers),
        "networks": [
            {"id": n.id, "size": len(n.members), "limit_a": n.network_limit_a, "enabled": n.enabled}
            for n in networks
        ],
        "alerts": [
            {"code": a.code, "severity": a.severity, "message": a.message, "device": a.device}
            for a in _alerts(service)
        ],
    }


def pcs_view(service: Service) -> dict[str, Any]:
    """The PCS settings as shown on their page."""
    pcs = service.runtime.site.pcs
    return {
        "panel": pcs.panel,
        "panel_limit_a": pcs.panel_limit_a,
        "panel_limit_default_a": PANEL_LIMIT_DEFAULT_A,
        "conductor_limit_a": pcs.conductor_limit_a,
        "conductor_meter": pcs.conductor_meter,
        "export_limit_a": pcs.export_limit_a,
    }
