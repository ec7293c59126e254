"""Live: circuits and chargers as the last cycle left them; `static/live.js` keeps the
page current from the stream (`/api/stream`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from panelpilot.web.deps import SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/live")
async def live(page: SignedIn) -> HTMLResponse:
    """The Live page as first drawn."""
    view = page.service.reads.live()
    return page.render(
        "live.html", circuits=view.circuits, charger_views=view.chargers,
        voltage_v=view.voltage_v, pcs=view.pcs, live_src="/live",
    )  # fmt: skip
