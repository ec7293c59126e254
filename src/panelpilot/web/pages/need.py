"""The charging need on a charger's page: what the session needs (departure, energy wanted,
delivered so far, where it came from; an estimate marked as such), and the owner's form,
"leaving at 07:30, needs 25 kWh", for the car plugged in now."""

from __future__ import annotations

import math
import re

from fastapi import APIRouter
from fastapi.responses import Response

from panelpilot.control.settings import SettingsError
from panelpilot.service.access import Forbidden
from panelpilot.service.views import NeedView
from panelpilot.web.deps import FormText, Page, Posted
from panelpilot.web.render import done

router = APIRouter(include_in_schema=False)
WH_PER_KWH = 1000.0

# Where a need came from, in the owner's words.
SOURCES = {
    "ev": "the car (ISO 15118)",
    "owner": "set for this session",
    "default": "the site's default",
    "estimate": "estimate from this charger's past sessions",
}
_KWH = re.compile(r"[0-9]{1,3}(?:\.[0-9]{0,3})?")


def need_context(page: Page, charger_id: str) -> dict[str, object]:
    """What the charger page's need card shows."""
    needs = page.service.needs
    if needs is None:
        return {"need": None, "needs_kept": False}
    view = needs.views().get(charger_id)
    departure = None
    if view is not None and view.departure_wall_s is not None:
        departure = needs.local_time(view.departure_wall_s)
    return {"need": None if view is None else shown(view, departure), "needs_kept": True}


def shown(view: NeedView, departure: str | None) -> dict[str, str | bool]:
    """A need as the page prints it: the departure on the site's clock, energies in kWh."""
    return {
        "departure": departure or "not known",
        "wanted": "not known"
        if view.wanted_wh is None
        else f"{view.wanted_wh / WH_PER_KWH:.1f} kWh",
        "delivered": f"{view.delivered_wh / WH_PER_KWH:.1f} kWh",
        "remaining": ""
        if view.remaining_wh is None
        else f"{view.remaining_wh / WH_PER_KWH:.1f} kWh",
        "source": SOURCES[view.source],
        "estimate": view.source == "estimate",
    }


def form_kwh(text: str) -> float | None:
    """The energy field: empty (not said) or a decimal number of kWh."""
    stripped = text.strip()
    if not stripped:
        return None
    if _KWH.fullmatch(stripped) is None or not math.isfinite(float(stripped)):
        raise SettingsError(f"Energy needed: {stripped[:12]!r} is not a number of kWh (like 25)")
    return float(stripped)


@router.post("/chargers/{charger_id}/need")
async def set_need(
    page: Posted,
    charger_id: str,
    departure: FormText = "",
    energy_kwh: FormText = "",
    clear: FormText = "",
) -> Response:
    """Save (or clear) the owner's need for the session plugged in now."""
    from panelpilot.web.pages.charger import charger_page  # the page this form is on

    needs = page.service.needs
    try:
        if needs is None:
            raise SettingsError("this service keeps no charging needs")
        if clear:
            needs.clear_need(page.user.actor(), charger_id)
            return done(f"/chargers/{charger_id}", "need_cleared")
        needs.set_need(
            page.user.actor(), charger_id, departure.strip() or None, form_kwh(energy_kwh)
        )
    except (SettingsError, Forbidden) as exc:
        return charger_page(page, charger_id, str(exc))
    return done(f"/chargers/{charger_id}", "need")
