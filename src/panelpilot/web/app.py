"""The FastAPI app factory: pages, API, live stream, metrics, docs, static files, limits."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric

from panelpilot.service.service import Service
from panelpilot.web.api import api_router
from panelpilot.web.auth import SignInRequired, client_address, is_loopback, principal_of
from panelpilot.web.limits import HashGate, RequestLimits
from panelpilot.web.options import WebOptions
from panelpilot.web.pages import pages_router
from panelpilot.web.signin import signin_router
from panelpilot.web.stream import Streams, stream
from panelpilot.web.throttle import SignInThrottle

HERE = Path(__file__).parent


def _utc(at_s: float) -> str:
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


class _Unlabelled:
    """The metrics without a device label (cycles, overruns, alerts): for loopback scrapers
    without a token. Per-charger currents say who is home; they need a token."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self.registry.collect():
            samples = [s for s in family.samples if not s.labels]
            if samples:
                kept = Metric(family.name, family.documentation, family.type, family.unit)
                kept.samples = samples
                yield kept


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    # The input is never echoed: it may be NaN (not JSON) or whatever a stranger sent.
    errors = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors()
    ]
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors


def create_app(service: Service, options: WebOptions | None = None) -> FastAPI:
    """A web app over one running service."""
    options = options or WebOptions()
    app = FastAPI(
        title="panelpilot",
        version=service.version,
        description="EV power sharing and PCS limits: site, devices, networks, settings, events.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service
    app.state.options = options
    app.state.sign_in_throttle = SignInThrottle()
    app.state.hash_gate = HashGate(
        options.hash_workers, options.hash_queue, options.hash_per_client
    )
    app.state.streams = Streams()
    app.add_middleware(
        RequestLimits,
        max_body_bytes=options.max_body_bytes,
        max_in_flight=options.max_in_flight,
        max_streams=options.max_streams,
        body_timeout_s=options.body_timeout_s,
        max_in_flight_per_client=options.max_in_flight_per_client,
        behind_proxy=options.behind_https_proxy,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["utc"] = _utc
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(signin_router(templates))
    app.include_router(pages_router(templates))
    app.include_router(api_router())
    app.add_api_websocket_route("/api/stream", stream)

    @app.exception_handler(SignInRequired)
    def sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        message, errors = _validation_message(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message, "errors": errors}, status_code=422)
        return HTMLResponse(
            f"<!doctype html><title>Refused</title><p class=error>The form was refused: "
            f"{html.escape(message)}. <a href=/>Back to Home</a></p>",
            status_code=422,
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        registry = service.metrics.registry
        if principal_of(request) is not None:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        if is_loopback(client_address(request)):
            unlabelled = _Unlabelled(registry)
            return Response(generate_latest(unlabelled), media_type=CONTENT_TYPE_LATEST)
        raise HTTPException(
            401,
            "metrics need an API token (Authorization: Bearer ...) unless scraped from this "
            "machine",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        if principal_of(request) is None:
            raise HTTPException(
                401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"}
            )
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        if principal_of(request) is None:
            raise SignInRequired("/docs")
        return get_swagger_ui_html(openapi_url="/openapi.json", title="panelpilot API")

    return app
