"""Settings changes: checked by the control core's settings lock, committed, then applied.

Order matters: a change is (1) checked against the controller's memory as it will be once
the queued commands run, so the user sees the reason for a refusal at once; (2) committed to
storage with who, when and the license number; (3) handed to the runtime (network changes as
`Command`s in the next snapshot; PCS changes as a new site and controller). Only then is it
acknowledged. On start, `restore` puts the stored settings back.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

from panelpilot.control.settings import SettingsError, apply_command, fallback_a, membership
from panelpilot.control.state import ControllerState, NetworkMemory
from panelpilot.control.types import Command
from panelpilot.service.accounts import Role
from panelpilot.service.clock import Clock
from panelpilot.service.pairing import Pairable
from panelpilot.service.runtime import Runtime
from panelpilot.service.storage import Storage
from panelpilot.site import Site, SiteFileError, parse_site

PCS_FIELDS = {
    "panel_limit_a": "Panel Limit",
    "conductor_limit_a": "Conductor Limit",
    "export_limit_a": "Site Export Limit",
}


def _amps(value: float | None) -> str:
    return "disabled" if value is None else f"{value:g} A"


class Forbidden(Exception):
    """The signed-in person may not make this change; says what is needed."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, and the license number they entered (qualified personnel)."""

    name: str
    role: Role
    license_number: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkView:
    """A network's settings as they stand once queued changes are applied."""

    id: str
    enabled: bool
    network_limit_a: float | None
    members: tuple[str, ...]
    fallbacks_a: dict[str, float]


def network_value(state: ControllerState, network_id: str) -> dict[str, Any]:
    """A network's settings as stored (JSON)."""
    net = state.networks[network_id]
    return {"enabled": net.enabled, "network_limit_a": net.limit_a, "members": list(net.members)}


class SettingsManager:
    """The only way settings change while the service runs."""

    def __init__(self, runtime: Runtime, storage: Storage, clock: Clock) -> None:
        self.runtime = runtime
        self.storage = storage
        self.clock = clock

    def state_view(self) -> ControllerState:
        """The controller's memory with the queued commands applied (a copy)."""
        view = copy.deepcopy(self.runtime.controller.state)
        for cmd in self.runtime.pending:
            try:
                apply_command(self.runtime.controller.topology, view, cmd)
            except SettingsError:
                continue
        return view

    def network(self, network_id: str) -> NetworkView:
        """One network's settings now."""
        view = self.state_view()
        net = view.networks.get(network_id)
        if net is None:
            raise SettingsError(f"unknown network {network_id!r}")
        topo = self.runtime.controller.topology
        member_of = membership(view)
        fallbacks = {cid: fallback_a(topo, view, cid, member_of.get(cid)) for cid in net.members}
        return NetworkView(network_id, net.enabled, net.limit_a, net.members, fallbacks)

    def change_network(self, actor: Actor, cmd: Command) -> str:
        """Check, commit and queue one network change; returns what was done."""
        if actor.role != "installer":
            raise Forbidden("only an installer may change power sharing settings")
        view = self.state_view()
        old = network_value(view, cmd.network) if cmd.network in view.networks else None
        summary = apply_command(self.runtime.controller.topology, view, cmd)
        self.storage.record_setting(
            f"network:{cmd.network}",
            old,
            network_value(view, cmd.network),
            who=actor.name,
            license_number=actor.license_number,
            at_s=self.clock.wall_s(),
            summary=summary,
        )
        self.runtime.submit(cmd)
        return summary

    async def add_charger(
        self, actor: Actor, network_id: str, charger_id: str, password: str
    ) -> str:
        """Add a charger to a network once the password on its sticker checks out."""
        if actor.role != "installer":
            raise Forbidden("only an installer may change power sharing settings")
        driver = self.runtime.drivers.chargers.get(charger_id)
        if driver is None:
            raise SettingsError(f"unknown charger {charger_id!r}")
        if not isinstance(driver, Pairable) or not await driver.verify_password(password):
            raise SettingsError(f"wrong password for charger {charger_id}")
        return self.change_network(actor, Command(network_id, add=charger_id))

    def pcs_value(self) -> dict[str, Any]:
        """The PCS settings as stored (JSON)."""
        return self.runtime.site.pcs.model_dump(mode="json")

    def change_pcs(self, actor: Actor, values: dict[str, float | None]) -> str:
        """Set Panel, Conductor and Site Export Limits (None clears = disables one)."""
        if actor.role != "installer":
            raise Forbidden("only qualified personnel (an installer) may change PCS settings")
        if not actor.license_number:
            raise Forbidden("enter your license number before changing PCS settings")
        unknown = set(values) - set(PCS_FIELDS)
        if unknown:
            raise SettingsError(f"unknown PCS settings: {', '.join(sorted(unknown))}")
        old = self.pcs_value()
        new_site = self._site_with_pcs({**old, **values})
        new = new_site.pcs.model_dump(mode="json")
        changed = [
            f"{label} {_amps(old[k])} -> {_amps(new[k])}"
            for k, label in PCS_FIELDS.items()
            if old[k] != new[k]
        ]
        summary = "PCS: " + ("; ".join(changed) if changed else "no change")
        self.storage.record_setting(
            "pcs",
            old,
            new,
            who=actor.name,
            license_number=actor.license_number,
            at_s=self.clock.wall_s(),
            summary=summary,
        )
        self.runtime.replace_site(new_site)
        return summary

    def _site_with_pcs(self, pcs: dict[str, Any]) -> Site:
        data = self.runtime.site.model_dump(mode="json")
        data["pcs"] = pcs
        try:
            return parse_site(data, file="settings")
        except SiteFileError as exc:
            reasons = "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
            raise SettingsError(reasons) from None

    def restore(self) -> None:
        """Put the stored settings back into the runtime (on start)."""
        stored = self.storage.latest_settings()
        if "pcs" in stored:
            # If the site file changed under the stored value, the file wins.
            with contextlib.suppress(SettingsError):
                self.runtime.replace_site(self._site_with_pcs(stored["pcs"]))
        state = self.runtime.controller.state
        chargers = set(self.runtime.controller.topology.chargers)
        for key, value in stored.items():
            if not key.startswith("network:"):
                continue
            nid = key.removeprefix("network:")
            if nid in state.networks and set(value["members"]) <= chargers:
                state.networks[nid] = NetworkMemory(
                    bool(value["enabled"]), value["network_limit_a"], tuple(value["members"])
                )
