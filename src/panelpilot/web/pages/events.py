"""Events: the settings history (who, when, license number) and the event log."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from panelpilot.web.deps import SignedIn

router = APIRouter(include_in_schema=False)

EVENTS_SHOWN = 200
HISTORY_SHOWN = 100


@router.get("/events")
async def events(page: SignedIn) -> HTMLResponse:
    """The newest events and settings versions."""
    reads = page.service.reads
    return page.render(
        "events.html", events=reads.events(EVENTS_SHOWN), history=reads.history(HISTORY_SHOWN)
    )
