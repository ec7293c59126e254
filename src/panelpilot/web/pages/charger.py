"""One charger: who controls it, its draw against its limit, alerts, status, installation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from panelpilot.web.deps import SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/chargers/{charger_id}")
async def charger(page: SignedIn, charger_id: str) -> HTMLResponse:
    """A charger's page (404 for a charger the site does not have)."""
    view = page.service.reads.charger(charger_id)
    if view is None:
        raise HTTPException(404, f"unknown charger {charger_id!r}")
    return page.render("charger.html", charger=view, live_src=f"/chargers/{charger_id}")
