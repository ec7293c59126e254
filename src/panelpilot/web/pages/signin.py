"""Signing in and out.

The password check runs on the `HashGate`'s threads, bounded overall and per client address;
the `SignInThrottle` slows guessing per address, per name and per address-and-name.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from panelpilot.service.accounts import User
from panelpilot.service.service import Service
from panelpilot.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    secure_cookies,
    service_of,
)
from panelpilot.web.deps import FormText, Posted
from panelpilot.web.limits import Busy, HashGate
from panelpilot.web.render import render
from panelpilot.web.stream import Streams
from panelpilot.web.throttle import SignInThrottle

MAX_NAME_CHARS = 64
MAX_PASSWORD_CHARS = 1024

router = APIRouter(include_in_schema=False)

_LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~/-]{0,200}")


def safe_next(path: str) -> str:
    """Only plain local paths after sign-in: no open redirect, no text of a link's choosing."""
    return path if _LOCAL_PATH.fullmatch(path) else "/"


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=secure_cookies(request)
    )


@dataclass(frozen=True, slots=True)
class _Form:
    """The sign-in form as sent: shown again (with its token) when the sign-in fails."""

    request: Request
    login_csrf: str
    next: str

    def again(self, status: int, error: str, retry_s: float | None = None) -> HTMLResponse:
        response = render(
            self.request, "login.html", None, status, login_csrf=self.login_csrf,
            next=self.next, error=error,
        )  # fmt: skip
        if retry_s is not None:
            response.headers["Retry-After"] = str(max(1, round(retry_s)))
        return response


def _login_form(request: Request, csrf: str, next_path: str) -> _Form:
    """The form, if its token is the one this browser was given (403 otherwise)."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise HTTPException(403, "the sign-in form has expired; reload the page")
    return _Form(request, expected, safe_next(next_path))


async def _authenticate(
    request: Request, service: Service, name: str, password: str
) -> User | None:
    """The user, if the password is theirs; over-long input is never hashed (`Busy` when the
    hash threads are full)."""
    if len(name) > MAX_NAME_CHARS or len(password) > MAX_PASSWORD_CHARS:
        return None
    gate: HashGate = request.app.state.hash_gate
    return await gate.run(
        client_address(request), lambda: service.accounts.authenticate(name, password)
    )


def _signed_in(request: Request, service: Service, user: User, next_path: str) -> Response:
    """Start the session and go where the user was going."""
    cookie = service.accounts.start_session(user, service.clock.wall_s())
    service.audit.signed_in(user.name, client_address(request))
    response = RedirectResponse(next_path, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form, with a fresh token in a cookie and in the form."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, next=safe_next(next))
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/login")
async def login(
    request: Request, name: FormText, password: FormText, csrf: FormText, next: FormText = "/"
) -> Response:
    """Sign in: throttled, bounded, logged."""
    form = _login_form(request, csrf, next)
    service = service_of(request)
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address, key, now = client_address(request), name[:MAX_NAME_CHARS], service.clock.wall_s()
    if (wait_s := throttle.wait_s(address, key, now)) > 0:
        return form.again(429, f"Too many failed sign-ins; try again in {wait_s:.0f} s.", wait_s)
    try:
        user = await _authenticate(request, service, name, password)
    except Busy as exc:
        return form.again(503, f"{str(exc).capitalize()}.", 1.0)
    if user is None:
        throttle.failed(address, key, now)
        service.audit.sign_in_failed(key, address)
        return form.again(401, "Wrong name or password.")
    throttle.succeeded(address, key, now)
    return _signed_in(request, service, user, form.next)


@router.post("/logout")
async def logout(page: Posted) -> Response:
    """Sign out: the session ends, and so do its live streams, at once."""
    cookie = page.user.cookie
    assert cookie is not None  # a page user has a session
    page.service.accounts.end_session(cookie)
    streams: Streams = page.request.app.state.streams
    streams.end_session(cookie)
    page.service.audit.signed_out(page.user.user.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
