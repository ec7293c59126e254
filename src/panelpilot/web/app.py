"""The FastAPI app factory: pages, API, live stream, metrics, docs, static files, limits.

Refusals are mapped to responses here, once: no session on a page is a redirect to sign in,
the service's `Forbidden` is the 403 page (or JSON under /api), invalid input is 422 naming
the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from panelpilot.service.access import Forbidden
from panelpilot.service.service import Service
from panelpilot.web import api, meta, needs_api
from panelpilot.web.auth import SignInRequired, principal_of
from panelpilot.web.limits import HashGate, RequestLimits
from panelpilot.web.options import WebOptions
from panelpilot.web.pages import pages_router
from panelpilot.web.render import render
from panelpilot.web.stream import Streams, stream
from panelpilot.web.throttle import SignInThrottle

HERE = Path(__file__).parent


def _utc(at_s: float) -> str:
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _field(loc: Sequence[int | str]) -> str:
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


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)


def _forbidden(request: Request, exc: Exception) -> Response:
    """The service said no: its reason, on the 403 page or as JSON."""
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, status_code=403)
    return render(request, "forbidden.html", principal_of(request), 403, reason=str(exc))


def _back(request: Request) -> str:
    """Where a refused form goes back to: the page it was posted from."""
    path = request.url.path
    if request.method == "POST" and path.count("/") > 1:
        path = path.rsplit("/", 1)[0]
    return path if request.method == "POST" else "/"


def _error_page(request: Request, status: int, title: str, reason: str) -> Response:
    """A page in the site's style (the header for a signed-in user), never raw JSON."""
    principal = principal_of(request)
    if principal is None and status == 404:
        reason = "There is no such page."  # what exists is for signed-in users to see
    return render(
        request, "error.html", principal, status, title=title, reason=reason, back=_back(request)
    )


def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, errors = _validation_message(exc)
    if _is_api(request):
        return JSONResponse({"detail": message, "errors": errors}, status_code=422)
    return _error_page(request, 422, "The form was refused", f"{message}.")


_TITLES = {404: "Not found", 405: "Not allowed here", 403: "Not allowed", 429: "Too many requests"}


def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown URLs and refused requests: JSON under /api, a page everywhere else."""
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request) or request.url.path.startswith("/static/"):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    title = _TITLES.get(exc.status_code, "Refused")
    detail = str(exc.detail) if exc.detail else title
    response = _error_page(request, exc.status_code, title, detail[:1].upper() + detail[1:])
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _keep(app: FastAPI, service: Service, options: WebOptions) -> None:
    """What the routes find on `app.state`: the service, the options, the shared guards."""
    app.state.service = service
    app.state.options = options
    app.state.sign_in_throttle = SignInThrottle()
    app.state.hash_gate = HashGate(
        options.hash_workers, options.hash_queue, options.hash_per_client
    )
    app.state.streams = Streams()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["utc"] = _utc
    app.state.templates = templates


def _limit(app: FastAPI, options: WebOptions) -> None:
    app.add_middleware(
        RequestLimits,
        max_body_bytes=options.max_body_bytes,
        max_in_flight=options.max_in_flight,
        max_streams=options.max_streams,
        body_timeout_s=options.body_timeout_s,
        max_in_flight_per_client=options.max_in_flight_per_client,
        behind_proxy=options.behind_https_proxy,
    )


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
    _keep(app, service, options)
    _limit(app, options)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages_router())
    app.include_router(api.router)
    app.include_router(needs_api.router)
    app.add_api_websocket_route("/api/stream", stream)
    app.include_router(meta.router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app
