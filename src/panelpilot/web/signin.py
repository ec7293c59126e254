"""Signing in and out, and the Access Controls page (the user's API tokens).

The password check runs on the `HashGate`'s threads, bounded overall and per client address;
the `SignInThrottle` slows guessing per address, per name and per address-and-name.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from panelpilot.control.settings import SettingsError
from panelpilot.service.accounts import (
    TOKEN_DAYS_DEFAULT,
    TOKEN_DAYS_MAX,
    AccountError,
)
from panelpilot.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    check_form_csrf,
    client_address,
    page_user,
    secure_cookies,
    service_of,
)
from panelpilot.web.limits import Busy, HashGate
from panelpilot.web.numbers import form_int
from panelpilot.web.render import done, renderer
from panelpilot.web.stream import Streams
from panelpilot.web.throttle import SignInThrottle

Field = Annotated[str, Form()]
MAX_NAME_CHARS = 64
MAX_PASSWORD_CHARS = 1024


_LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~/-]{0,200}")


def safe_next(path: str) -> str:
    """Only plain local paths after sign-in: no open redirect, no text of a link's choosing."""
    return path if _LOCAL_PATH.fullmatch(path) else "/"


def signin_router(templates: Jinja2Templates) -> APIRouter:
    """The sign-in, sign-out and Access Controls routes."""
    router = APIRouter(include_in_schema=False)
    render = renderer(templates)

    @router.get("/login")
    async def login_page(request: Request, next: str = "/") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, login_csrf=token, next=safe_next(next))
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
            secure=secure_cookies(request),
        )  # fmt: skip
        return response

    @router.post("/login")
    async def login(
        request: Request, name: Field, password: Field, csrf: Field, next: Field = "/"
    ) -> Response:
        service = service_of(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            raise HTTPException(403, "the sign-in form has expired; reload the page")
        throttle: SignInThrottle = request.app.state.sign_in_throttle
        gate: HashGate = request.app.state.hash_gate
        address = client_address(request)
        key = name[:MAX_NAME_CHARS]
        now = service.clock.wall_s()

        def again(status: int, error: str, retry_s: float) -> HTMLResponse:
            response = render(
                request, "login.html", None, status, login_csrf=expected, next=safe_next(next),
                error=error,
            )  # fmt: skip
            response.headers["Retry-After"] = str(max(1, round(retry_s)))
            return response

        if (wait_s := throttle.wait_s(address, key, now)) > 0:
            return again(429, f"Too many failed sign-ins; try again in {wait_s:.0f} s.", wait_s)
        if len(name) > MAX_NAME_CHARS or len(password) > MAX_PASSWORD_CHARS:
            user = None
        else:
            try:
                user = await gate.run(
                    address, lambda: service.accounts.authenticate(name, password)
                )
            except Busy as exc:
                return again(503, f"{str(exc).capitalize()}.", 1.0)
        if user is None:
            throttle.failed(address, key, now)
            service.storage.add_event(now, "auth", f"failed sign-in as {key!r} from {address}")
            return render(
                request, "login.html", None, 401, login_csrf=expected, next=safe_next(next),
                error="Wrong name or password.",
            )  # fmt: skip
        throttle.succeeded(address, key, now)
        cookie = service.accounts.start_session(user, now)
        service.storage.add_event(now, "auth", f"{user.name} signed in from {address}",
                                  who=user.name)  # fmt: skip
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE, cookie, httponly=True, samesite="strict",
            secure=secure_cookies(request),
        )  # fmt: skip
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @router.post("/logout")
    async def logout(request: Request, csrf: Field) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        service = service_of(request)
        assert principal.cookie is not None
        service.accounts.end_session(principal.cookie)
        streams: Streams = request.app.state.streams
        streams.end_session(principal.cookie)
        service.storage.add_event(
            service.clock.wall_s(), "auth", f"{principal.user.name} signed out",
            who=principal.user.name,
        )  # fmt: skip
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def access_page(
        request: Request,
        principal: Principal,
        status: int = 200,
        token: str | None = None,
        error: str | None = None,
    ) -> HTMLResponse:
        service = service_of(request)
        return render(
            request, "access.html", principal, status,
            token=token, error=error, now_s=service.clock.wall_s(),
            tokens=service.accounts.tokens(principal.user.name),
            days_default=TOKEN_DAYS_DEFAULT, days_max=TOKEN_DAYS_MAX,
        )  # fmt: skip

    @router.get("/access")
    async def access(request: Request) -> HTMLResponse:
        return access_page(request, page_user(request))

    @router.post("/access/tokens")
    async def new_token(
        request: Request, csrf: Field, name: Field, days: Field = str(TOKEN_DAYS_DEFAULT)
    ) -> HTMLResponse:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        service = service_of(request)
        now = service.clock.wall_s()
        try:
            lifetime = form_int("Expires after (days)", days, 1, TOKEN_DAYS_MAX)
            token = service.accounts.add_token(principal.user, name, now, lifetime)
        except (SettingsError, AccountError) as exc:
            return access_page(request, principal, 422, error=str(exc))
        service.storage.add_event(
            now, "auth",
            f"{principal.user.name} created API token {name.strip()!r} for {lifetime} days",
            who=principal.user.name,
        )  # fmt: skip
        return access_page(request, principal, token=token)

    @router.post("/access/tokens/{token_id}/revoke")
    async def revoke_token(
        request: Request, token_id: Annotated[int, Path(ge=1, le=2**62)], csrf: Field
    ) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        service = service_of(request)
        try:
            record = service.accounts.revoke_token(token_id, principal.user.name)
        except AccountError as exc:
            return access_page(request, principal, 404, error=str(exc))
        service.storage.add_event(
            service.clock.wall_s(), "auth",
            f"{principal.user.name} revoked API token {record.name!r}", who=principal.user.name,
        )  # fmt: skip
        return done("/access", "token_revoked")

    return router
