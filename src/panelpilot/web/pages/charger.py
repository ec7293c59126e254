"""One charger: who controls it, its draw against its limit, alerts, status, installation,
and the session's charging need (`need.py`)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from panelpilot.web.deps import Page, SignedIn
from panelpilot.web.pages.need import need_context

router = APIRouter(include_in_schema=False)


def charger_page(page: Page, charger_id: str, error: str | None = None) -> HTMLResponse:
    """The page, with the reason a change was refused (422)."""
    view = page.service.reads.charger(charger_id)
    if view is None:
        raise HTTPException(404, f"unknown charger {charger_id!r}")
    return page.render(
        "charger.html", 422 if error else 200, charger=view, error=error,
        live_src=f"/chargers/{charger_id}", **need_context(page, charger_id),
    )  # fmt: skip


@router.get("/chargers/{charger_id}")
async def charger(page: SignedIn, charger_id: str) -> HTMLResponse:
    """A charger's page (404 for a charger the site does not have)."""
    return charger_page(page, charger_id)
