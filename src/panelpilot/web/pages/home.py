"""Home: software version, installation, a card per Power Sharing network, alerts."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from panelpilot.web.deps import SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(page: SignedIn) -> HTMLResponse:
    """The Home page."""
    return page.render("home.html", home=page.service.reads.overview())
