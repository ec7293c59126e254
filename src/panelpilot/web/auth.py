"""Who is asking: a session cookie (pages, with CSRF tokens on forms) or an API token.

API writes with a session cookie need the session's CSRF token in `X-CSRF-Token`; bearer
tokens carry no ambient authority, so they need none.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from panelpilot.service.access import Actor
from panelpilot.service.accounts import Session, User
from panelpilot.service.service import Service
from panelpilot.web.limits import client_of_scope
from panelpilot.web.options import WebOptions

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


def options_of(connection: HTTPConnection) -> WebOptions:
    """The web options the app was created with."""
    options: WebOptions = connection.app.state.options
    return options


def client_address(connection: HTTPConnection) -> str:
    """The client's address: the peer, or behind the HTTPS proxy the address it appended."""
    return client_of_scope(connection.scope, options_of(connection).behind_https_proxy)


def is_loopback(address: str) -> bool:
    """Whether an address is this machine's (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def secure_cookies(connection: HTTPConnection) -> bool:
    """Whether cookies get the `Secure` flag: served over HTTPS, or behind the HTTPS proxy."""
    service = service_of_connection(connection)
    return (
        service.secure_cookies
        or options_of(connection).behind_https_proxy
        or connection.url.scheme in ("https", "wss")
    )


def service_of_connection(connection: HTTPConnection) -> Service:
    """The service, from a request or a WebSocket."""
    service: Service = connection.app.state.service
    return service


def bearer_token(connection: HTTPConnection) -> str | None:
    """The API token of `Authorization: Bearer ...`, if sent."""
    header = connection.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def principal_of(request: Request) -> Principal | None:
    """The signed-in user of this request, or None."""
    service = service_of(request)
    token = bearer_token(request)
    if token is not None:
        user = service.accounts.token_user(token, service.clock.wall_s())
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


class SignInRequired(Exception):
    """A page was asked for without a session; the app redirects to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def page_user(request: Request) -> Principal:
    """The signed-in browser user of a page, or a redirect to sign in."""
    principal = principal_of(request)
    if principal is None or principal.session is None:
        raise SignInRequired(request.url.path)
    return principal
