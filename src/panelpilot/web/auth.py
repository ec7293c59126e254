"""Who is asking: a session cookie (pages, with CSRF tokens on forms) or an API token.

API writes with a session cookie need the session's CSRF token in `X-CSRF-Token`; bearer
tokens carry no ambient authority, so they need none.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from panelpilot.service.accounts import Session, User
from panelpilot.service.service import Service
from panelpilot.service.settings import Actor

SESSION_COOKIE = "pp_session"
LOGIN_CSRF_COOKIE = "pp_login_csrf"


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user, with their session when they came through the browser."""

    user: User
    session: Session | None
    cookie: str | None

    def actor(self, license_number: str | None = None) -> Actor:
        """The actor of a settings change (the session's license number unless given)."""
        number = license_number or (self.session.license_number if self.session else None)
        return Actor(self.user.name, self.user.role, number)


def service_of(request: Request) -> Service:
    """The service the app was created for."""
    service: Service = request.app.state.service
    return service


def principal_of(request: Request) -> Principal | None:
    """The signed-in user of this request, or None."""
    service = service_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = service.accounts.token_user(header[7:].strip())
        return None if user is None else Principal(user, None, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = service.accounts.session(cookie, service.clock.wall_s())
        if session is not None:
            return Principal(session.user, session, cookie)
    return None


def require_user(request: Request) -> Principal:
    """API dependency: a signed-in user (401 otherwise)."""
    principal = principal_of(request)
    if principal is None:
        raise HTTPException(
            401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


def require_writer(request: Request) -> Principal:
    """API dependency for writes: a user, and the CSRF header when using a session cookie."""
    principal = require_user(request)
    if principal.session is not None:
        sent = request.headers.get("x-csrf-token", "")
        if not secrets.compare_digest(sent, principal.session.csrf):
            raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    return principal


def check_form_csrf(principal: Principal, sent: str) -> None:
    """A page form's CSRF token must be the session's."""
    if principal.session is None or not secrets.compare_digest(sent, principal.session.csrf):
        raise HTTPException(403, "the form has expired; reload the page and try again")


class SignInThrottle:
    """At most `attempts` failed sign-ins per name in `window_s`; then wait (slows guessing)."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.failures: dict[str, list[float]] = {}

    def wait_s(self, name: str, now_s: float) -> float:
        """How long this name must wait before trying again (0 = may try now)."""
        recent = [t for t in self.failures.get(name, []) if now_s - t < self.window_s]
        self.failures[name] = recent
        if len(recent) < self.attempts:
            return 0.0
        return self.window_s - (now_s - recent[0])

    def failed(self, name: str, now_s: float) -> None:
        """Count one failed sign-in."""
        self.failures.setdefault(name, []).append(now_s)

    def succeeded(self, name: str) -> None:
        """Forget the failures of a name that signed in."""
        self.failures.pop(name, None)
