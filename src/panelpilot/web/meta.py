"""What is about the service rather than the site: metrics, the OpenAPI spec, its docs page.

All for signed-in users (a session or a token), except that Prometheus on this machine may
scrape the metrics without a device label without one.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric

from panelpilot.web.auth import (
    SignInRequired,
    client_address,
    is_loopback,
    principal_of,
    service_of,
)

router = APIRouter(include_in_schema=False)


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


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text: everything with a token or session, the unlabelled series to
    loopback, 401 to anyone else."""
    registry = service_of(request).metrics.registry
    if principal_of(request) is not None:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    if is_loopback(client_address(request)):
        unlabelled = _Unlabelled(registry)
        return Response(generate_latest(unlabelled), media_type=CONTENT_TYPE_LATEST)
    raise HTTPException(
        401,
        "metrics need an API token (Authorization: Bearer ...) unless scraped from this machine",
        headers={"WWW-Authenticate": "Bearer"},
    )


@router.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI spec of the API."""
    if principal_of(request) is None:
        raise HTTPException(
            401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"}
        )
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """The interactive API docs (Swagger UI)."""
    if principal_of(request) is None:
        raise SignInRequired("/docs")
    return get_swagger_ui_html(openapi_url="/openapi.json", title="panelpilot API")
