"""The owner's word on a session: "leaving at 07:30, needs 25 kWh" for the car plugged in now.

Any account (owner or installer) may set or clear it; each change is a settings version in the
audit trail (`need:<charger>`, who and when), like every other setting. It is for the session
plugged in now and ends with it (`needs.py`), so it is refused while no car is plugged in.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from panelpilot.control.settings import SettingsError
from panelpilot.service.access import Actor
from panelpilot.service.audit import Audit
from panelpilot.service.clock import Clock
from panelpilot.service.needs import WH_PER_KWH, NeedBook, OwnerNeed, next_time_of_day
from panelpilot.service.runtime import Runtime
from panelpilot.service.views import NeedView
from panelpilot.site.needs import MAX_ENERGY_KWH, minutes_of_day


@dataclass
class NeedSettings:
    """Sets and clears the owner's need of a charger's session; reads every need."""

    book: NeedBook
    runtime: Runtime
    audit: Audit
    clock: Clock

    def local_time(self, wall_s: float) -> str:
        """A wall-clock time as the site's people read it ("Thu 07:30", the site's zone)."""
        return datetime.fromtimestamp(wall_s, self._zone()).strftime("%a %H:%M")

    def _zone(self) -> zoneinfo.ZoneInfo | None:
        tz = self.runtime.site.needs.timezone
        return zoneinfo.ZoneInfo(tz) if tz is not None else None

    def views(self) -> dict[str, NeedView]:
        """Each charger's need as the last cycle put it into the snapshot."""
        return dict(self.book.views())

    def set_need(
        self, actor: Actor, charger_id: str, departure: str | None, energy_kwh: float | None
    ) -> str:
        """Check, record and hand over the owner's need; returns what was done."""
        self._plugged_in(charger_id)
        departure_wall_s = self._departure_wall_s(departure)
        if energy_kwh is not None and not 0 < energy_kwh <= MAX_ENERGY_KWH:
            raise SettingsError(f"energy_kwh: {energy_kwh:g} kWh is outside 0..500 kWh")
        if departure is None and energy_kwh is None:
            raise SettingsError("give departure, energy_kwh or both")
        energy_wh = None if energy_kwh is None else energy_kwh * WH_PER_KWH
        new = {"departure": departure, "energy_kwh": energy_kwh}
        summary = f"{charger_id}: {_words(departure, energy_kwh)} (this session)"
        self.audit.setting(f"need:{charger_id}", None, new, actor, summary)
        self.book.set_owner(charger_id, OwnerNeed(departure_wall_s, energy_wh, actor.name))
        return summary

    def clear_need(self, actor: Actor, charger_id: str) -> str:
        """Forget the owner's need (the defaults and the estimate count again)."""
        if charger_id not in self._charger_ids():
            raise SettingsError(f"unknown charger {charger_id!r}")
        summary = f"{charger_id}: the owner's need cleared"
        self.audit.setting(f"need:{charger_id}", None, None, actor, summary)
        self.book.set_owner(charger_id, None)
        return summary

    def _charger_ids(self) -> set[str]:
        return {c.id for c in self.runtime.site.chargers}

    def _plugged_in(self, charger_id: str) -> None:
        if charger_id not in self._charger_ids():
            raise SettingsError(f"unknown charger {charger_id!r}")
        last = self.runtime.last
        reading = None if last is None else last.snapshot.chargers.get(charger_id)
        if reading is None or not (reading.online and reading.connected):
            raise SettingsError(
                f"{charger_id}: no car is plugged in; a need is for the session plugged in now"
            )

    def _departure_wall_s(self, departure: str | None) -> float | None:
        if departure is None:
            return None
        try:
            minutes_of_day(departure)
        except ValueError as problem:
            raise SettingsError(f"departure: {departure[:20]!r}: {problem}") from None
        return next_time_of_day(departure, self.clock.wall_s(), self._zone())


def _words(departure: str | None, energy_kwh: float | None) -> str:
    parts = []
    if departure is not None:
        parts.append(f"leaving at {departure}")
    if energy_kwh is not None:
        parts.append(f"needs {energy_kwh:g} kWh")
    return ", ".join(parts)
