"""The fleet page (`panelpilot fleet`): every site's status and alerts as the sites publish
them to one broker, read-only.

It is served from what `service.fleet.FleetCollector` received; it reaches no site and
changes nothing, so it has no sign-in: serve it on a trusted network or behind a proxy that
authenticates. Each site's safety loop runs on its own controller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from panelpilot.service.fleet import FleetCollector, FleetView

HERE = Path(__file__).parent
REFRESH_S = 5  # the page reloads itself this often (no script)


def _utc(at_s: float) -> str:
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M:%S") if at_s else "never"


def create_fleet_app(collector: FleetCollector, version: str) -> FastAPI:
    """The fleet's web app over one collector."""
    app = FastAPI(
        title="panelpilot fleet", version=version, docs_url=None, redoc_url=None, openapi_url=None
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["utc"] = _utc
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/", response_class=HTMLResponse)
    async def fleet_page(request: Request) -> HTMLResponse:
        context = {"fleet": collector.view(), "version": version, "refresh_s": REFRESH_S}
        return templates.TemplateResponse(request, "fleet.html", context)

    @app.get("/api/fleet")
    async def fleet_api() -> FleetView:
        return collector.view()

    return app
