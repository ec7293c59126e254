"""The FastAPI app factory: pages, API, live stream, metrics, static files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from panelpilot.service.service import Service
from panelpilot.web.api import api_router
from panelpilot.web.auth import SESSION_COOKIE, SignInThrottle
from panelpilot.web.pages import SignInRequired, pages_router

HERE = Path(__file__).parent


def _utc(at_s: float) -> str:
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _same_origin(origin: str | None, host: str | None) -> bool:
    """No Origin (not a browser) or an Origin naming this host."""
    if origin is None:
        return True
    return host is not None and urlsplit(origin).netloc == host


def create_app(service: Service) -> FastAPI:
    """A web app over one running service."""
    app = FastAPI(
        title="panelpilot",
        version=service.version,
        description="EV power sharing and PCS limits: site, devices, networks, settings, events.",
    )
    app.state.service = service
    app.state.sign_in_throttle = SignInThrottle()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["utc"] = _utc
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages_router(templates))
    app.include_router(api_router())

    @app.exception_handler(SignInRequired)
    def sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.websocket("/api/stream")
    async def stream(websocket: WebSocket) -> None:
        """Every cycle's decision and readings as JSON, for a signed-in user."""
        token = websocket.query_params.get("token")
        cookie = websocket.cookies.get(SESSION_COOKIE)
        now = service.clock.wall_s()
        allowed = (token is not None and service.accounts.token_user(token) is not None) or (
            cookie is not None and service.accounts.session(cookie, now) is not None
        )
        if not allowed:
            await websocket.close(code=4401, reason="sign in first")
            return
        if not _same_origin(websocket.headers.get("origin"), websocket.headers.get("host")):
            # A page on another site must not read the stream with this browser's cookie.
            await websocket.close(code=4403, reason="cross-origin")
            return
        await websocket.accept()
        queue = service.hub.subscribe()
        try:
            if service.hub.latest is not None:
                await websocket.send_json(service.hub.latest)
            while True:
                await websocket.send_json(await queue.get())
        except WebSocketDisconnect:
            return
        finally:
            service.hub.unsubscribe(queue)

    return app
