"""Events: the newest settings changes (who, when, license number) and the event log, a page
at a time, by category (settings, alerts, sign-ins, devices); an alert is one row from its
start to its clear (`service/event_log.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from panelpilot.service.views import FILTERS, duration_text
from panelpilot.web.deps import SignedIn

router = APIRouter(include_in_schema=False)

HISTORY_SHOWN = 10
HISTORY_ALL = 100


@router.get("/events")
async def events(
    page: SignedIn,
    show: Annotated[str, Query(max_length=16)] = "all",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    """One page of the event log, and the newest settings versions."""
    reads = page.service.reads
    log = reads.log(show, before)
    shown = HISTORY_ALL if log.show == "settings" else HISTORY_SHOWN
    return page.render(
        "events.html", log=log, filters=tuple(FILTERS), history=reads.history(shown),
        duration=duration_text,
    )  # fmt: skip
