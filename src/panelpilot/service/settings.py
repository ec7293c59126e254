"""Settings changes: checked by the control core's settings lock, committed, then applied.

Order matters: a change is (1) checked against the controller's memory as it will be once
the queued commands run, so the user sees the reason for a refusal at once; (2) committed to
storage with who, when and the license number; (3) handed to the runtime (network changes as
`Command`s in the next snapshot; PCS changes as a new site and controller). Only then is it
acknowledged. A change that cannot be stored is refused (`NotStored`) before anything is
applied. Changes come from the web's threads while the control loop runs on its own: the
checks read what the last cycle published (`Runtime.settings_view`) plus the queued commands,
and one lock makes check, commit and queue a single step.

On start, `differences` lists every stored setting that differs from the site file; the
installer chooses between them (`restore`, or `reset_to_site_file`).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from panelpilot.control.settings import SettingsError, apply_command, fallback_a, membership
from panelpilot.control.state import ControllerState, NetworkMemory
from panelpilot.control.types import Command
from panelpilot.service.access import CHANGE_NETWORK, CHANGE_PCS, Actor, Forbidden, check
from panelpilot.service.audit import Audit, NotStored
from panelpilot.service.clock import Clock
from panelpilot.service.database import reason
from panelpilot.service.pairing import Pairable
from panelpilot.service.runtime import Runtime
from panelpilot.service.storage import Storage
from panelpilot.site import Site, SiteFileError, parse_site
from panelpilot.site.sharing_limits import full_message, network_max_size

# Actor, Forbidden and NotStored are named here too: the settings are where callers meet them.
__all__ = ["Actor", "Forbidden", "NetworkSettings", "NotStored", "SettingsManager"]

PAIRING_TIMEOUT_S = 10.0

PCS_FIELDS = {
    "panel_limit_a": "Panel Limit",
    "conductor_limit_a": "Conductor Limit",
    "export_limit_a": "Site Export Limit",
}


def _amps(value: float | None) -> str:
    return "disabled" if value is None else f"{value:g} A"


@dataclass(frozen=True, slots=True)
class NetworkSettings:
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


def site_network_value(site: Site, network_id: str) -> dict[str, Any]:
    """A network's settings as the site file gives them (JSON, as stored)."""
    net = next(n for n in site.networks if n.id == network_id)
    members = [c.id for c in site.network_members(network_id)]
    return {"enabled": net.enabled, "network_limit_a": net.network_limit_a, "members": members}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g} A"
    return "not set" if value is None else str(value)


def _network_lines(nid: str, stored: dict[str, Any], site: dict[str, Any]) -> list[str]:
    lines = [
        f"network {nid}: {key}: stored {_show(stored.get(key))}, site file {_show(site[key])}"
        for key in ("enabled", "network_limit_a")
        if stored.get(key) != site[key]
    ]
    kept, filed = list(stored.get("members", [])), list(site["members"])
    if set(kept) != set(filed):
        added = sorted(set(kept) - set(filed))
        removed = sorted(set(filed) - set(kept))
        change = "; ".join(
            part
            for part in (
                f"stored adds {', '.join(added)}" if added else "",
                f"stored removes {', '.join(removed)}" if removed else "",
            )
            if part
        )
        lines.append(
            f"network {nid}: members: stored {', '.join(kept) or 'none'}, "
            f"site file {', '.join(filed) or 'none'} ({change})"
        )
    return lines


class SettingsManager:
    """The only way settings change while the service runs."""

    def __init__(
        self, runtime: Runtime, storage: Storage, clock: Clock, audit: Audit | None = None
    ) -> None:
        self.runtime = runtime
        self.storage = storage
        self.clock = clock
        self.audit = audit if audit is not None else Audit(storage, clock)
        self._lock = threading.RLock()  # check, commit, queue: one step at a time

    def state_view(self) -> ControllerState:
        """The settings as they will be once the queued commands have run (a fresh copy).

        Safe from any thread: built from what the last cycle published, never from the
        controller's live memory.
        """
        published, pending = self.runtime.settings_view()
        view = published.state()
        for cmd in pending:
            try:
                view, _ = apply_command(self.runtime.controller.topology, view, cmd)
            except SettingsError:
                continue
        return view

    def _record(self, key: str, old: object, new: object, actor: Actor, summary: str) -> None:
        """Commit one version (the audit's), or refuse the change (`NotStored`)."""
        self.audit.setting(key, old, new, actor, summary)

    def network(self, network_id: str) -> NetworkSettings:
        """One network's settings now."""
        view = self.state_view()
        net = view.networks.get(network_id)
        if net is None:
            raise SettingsError(f"unknown network {network_id!r}")
        topo = self.runtime.controller.topology
        member_of = membership(view)
        fallbacks = {cid: fallback_a(topo, view, cid, member_of.get(cid)) for cid in net.members}
        return NetworkSettings(network_id, net.enabled, net.limit_a, net.members, fallbacks)

    def change_network(self, actor: Actor, cmd: Command) -> str:
        """Check, commit and queue one network change; returns what was done."""
        check(actor, CHANGE_NETWORK)
        with self._lock:
            view = self.state_view()
            self._check_room(view, cmd)
            old = network_value(view, cmd.network) if cmd.network in view.networks else None
            view, summary = apply_command(self.runtime.controller.topology, view, cmd)
            new = network_value(view, cmd.network)
            self._record(f"network:{cmd.network}", old, new, actor, summary)
            self.runtime.submit(cmd)
            return summary

    def _check_room(self, view: ControllerState, cmd: Command) -> None:
        """Refuse adding a charger to a network already at its maximum size."""
        net = view.networks.get(cmd.network)
        if cmd.add is None or net is None or cmd.add in net.members:
            return
        most = network_max_size(self.runtime.site, cmd.network)
        if len(net.members) >= most:
            raise SettingsError(full_message(cmd.network, len(net.members), most))

    async def add_charger(
        self, actor: Actor, network_id: str, charger_id: str, password: str
    ) -> str:
        """Add a charger to a network once the password on its sticker checks out."""
        check(actor, CHANGE_NETWORK)
        driver = self.runtime.drivers.chargers.get(charger_id)
        if driver is None:
            raise SettingsError(f"unknown charger {charger_id!r}")
        if not isinstance(driver, Pairable):
            raise SettingsError(f"wrong password for charger {charger_id}")
        try:
            # The driver lives on the control loop; ask it there.
            right = await self.runtime.on_loop(
                lambda: driver.verify_password(password), PAIRING_TIMEOUT_S
            )
        except Exception as exc:  # a driver's failure is a refusal, not a crash
            why = "no answer" if isinstance(exc, TimeoutError) else reason(exc)
            raise SettingsError(
                f"cannot check the password of charger {charger_id}: {why}"
            ) from None
        if not right:
            raise SettingsError(f"wrong password for charger {charger_id}")
        return self.change_network(actor, Command(network_id, add=charger_id))

    def pcs_value(self) -> dict[str, Any]:
        """The PCS settings as stored (JSON)."""
        return self.runtime.site.pcs.model_dump(mode="json")

    def change_pcs(self, actor: Actor, values: dict[str, float | None]) -> str:
        """Set Panel, Conductor and Site Export Limits (None clears = disables one); returns
        what changed, "" when nothing did (and then nothing is recorded)."""
        check(actor, CHANGE_PCS)
        unknown = set(values) - set(PCS_FIELDS)
        if unknown:
            raise SettingsError(f"unknown PCS settings: {', '.join(sorted(unknown))}")
        with self._lock:
            old = self.pcs_value()
            new_site = self._site_with_pcs({**old, **values})
            new = new_site.pcs.model_dump(mode="json")
            changed = [
                f"{label} {_amps(old[k])} -> {_amps(new[k])}"
                for k, label in PCS_FIELDS.items()
                if old[k] != new[k]
            ]
            if not changed:
                return ""
            summary = "PCS: " + "; ".join(changed)
            self._record("pcs", old, new, actor, summary)
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

    def differences(self) -> list[str]:
        """Every stored setting that differs from the site file, one line each."""
        site = self.runtime.site
        stored = self.storage.latest_settings()
        chargers = {c.id for c in site.chargers}
        site_networks = {n.id for n in site.networks}
        lines: list[str] = []
        for key, value in sorted(stored.items()):
            if value is None or not key.startswith("network:"):
                continue
            nid = key.removeprefix("network:")
            if nid not in site_networks:
                lines.append(f"network {nid}: stored settings for a network the site file lacks")
                continue
            lines += _network_lines(nid, value, site_network_value(site, nid))
            unknown = sorted(set(value.get("members", [])) - chargers)
            if unknown:
                lines.append(
                    f"network {nid}: stored members {', '.join(unknown)} are not chargers of "
                    "the site file"
                )
        filed_pcs = site.pcs.model_dump(mode="json")
        stored_pcs = stored.get("pcs")
        if isinstance(stored_pcs, dict):
            lines += [
                f"pcs: {k}: stored {_show(stored_pcs.get(k))}, site file {_show(filed_pcs.get(k))}"
                for k in sorted(set(stored_pcs) | set(filed_pcs))
                if stored_pcs.get(k) != filed_pcs.get(k)
            ]
        return lines

    def reset_to_site_file(self, who: str, summary: str) -> int:
        """Record the site file's value of every setting that differs as a new version.

        Returns how many versions were written. The history keeps the stored values.
        """
        site = self.runtime.site
        site_networks = {n.id for n in site.networks}
        count = 0
        actor = Actor(who, "installer")
        for key, value in sorted(self.storage.latest_settings().items()):
            if value is None:
                continue
            if key == "pcs":
                new: Any = site.pcs.model_dump(mode="json")
            elif key.startswith("network:"):
                nid = key.removeprefix("network:")
                new = site_network_value(site, nid) if nid in site_networks else None
            else:
                continue
            if new != value:
                self._record(key, value, new, actor, f"{key}: {summary}")
                count += 1
        return count

    def restore(self) -> None:
        """Put the stored settings back into the runtime (on start, before the loop runs).

        Stored members that are not chargers of the site file are left out.
        """
        stored = self.storage.latest_settings()
        if isinstance(stored.get("pcs"), dict):
            # If the site file changed under the stored value, the file wins.
            with contextlib.suppress(SettingsError):
                self.runtime.replace_site(self._site_with_pcs(stored["pcs"]))
        known = self.runtime.controller.state.networks
        chargers = set(self.runtime.controller.topology.chargers)
        networks: dict[str, NetworkMemory] = {}
        for key, value in stored.items():
            if not key.startswith("network:") or not isinstance(value, dict):
                continue
            nid = key.removeprefix("network:")
            if nid in known:
                members = tuple(m for m in value["members"] if m in chargers)
                networks[nid] = NetworkMemory(
                    bool(value["enabled"]), value["network_limit_a"], members
                )
        self.runtime.restore_networks(networks)
        self.runtime.publish_settings()
