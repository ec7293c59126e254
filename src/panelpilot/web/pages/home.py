"""Home: software version, installation (each charger with its own Max output current), a
card per Power Sharing network, alerts; the cards follow the stream (`static/live.js`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from panelpilot.web.deps import SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(page: SignedIn) -> HTMLResponse:
    """The Home page."""
    reads = page.service.reads
    return page.render(
        "home.html", home=reads.overview(), network_views=reads.networks(),
        charger_views=reads.chargers(), live_src="/",
    )  # fmt: skip
