"""The server-rendered pages: Home, Power Sharing, chargers, PCS settings, live view, events.

Every form carries the session's CSRF token. A refused change re-renders its page with the
reason (status 422); an accepted one redirects back with what was done.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.service.pairing import parse_qr_payload
from panelpilot.service.settings import Forbidden
from panelpilot.web import views
from panelpilot.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    SignInThrottle,
    check_form_csrf,
    principal_of,
    service_of,
)


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


Field = Annotated[str, Form()]


def pages_router(templates: Jinja2Templates) -> APIRouter:
    """The page routes, rendered with `templates`."""
    router = APIRouter(include_in_schema=False)

    def render(
        request: Request, name: str, principal: Principal | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        service = service_of(request)
        context = {
            "user": principal.user if principal else None,
            "csrf": principal.session.csrf if principal and principal.session else "",
            "license_number": principal.session.license_number
            if principal and principal.session
            else None,
            "networks": [n.id for n in service.runtime.site.networks],
            "chargers": [c.id for c in service.runtime.site.chargers],
            "message": request.query_params.get("done"),
            "version": service.version,
            **ctx,
        }
        return templates.TemplateResponse(request, name, context, status_code=status)

    def done(path: str, message: str) -> RedirectResponse:
        return RedirectResponse(f"{path}?done={quote(message)}", status_code=303)

    @router.get("/login")
    async def login_page(request: Request, next: str = "/") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, login_csrf=token, next=_safe(next))
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
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
        now = service.clock.wall_s()
        if (wait_s := throttle.wait_s(name, now)) > 0:
            return render(
                request, "login.html", None, 429, login_csrf=expected, next=_safe(next),
                error=f"Too many failed sign-ins for {name}; try again in {wait_s:.0f} s.",
            )  # fmt: skip
        user = await asyncio.to_thread(service.accounts.authenticate, name, password)
        if user is None:
            throttle.failed(name, now)
            service.storage.add_event(now, "auth", f"failed sign-in as {name[:64]!r}")
            return render(
                request, "login.html", None, 401, login_csrf=expected, next=_safe(next),
                error="Wrong name or password.",
            )  # fmt: skip
        throttle.succeeded(name)
        cookie = service.accounts.start_session(user, now)
        service.storage.add_event(now, "auth", f"{user.name} signed in", who=user.name)
        response = RedirectResponse(_safe(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE, cookie, httponly=True, samesite="strict",
            secure=service.secure_cookies,
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
        service.storage.add_event(
            service.clock.wall_s(), "auth", f"{principal.user.name} signed out",
            who=principal.user.name,
        )  # fmt: skip
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @router.get("/")
    async def home(request: Request) -> HTMLResponse:
        principal = page_user(request)
        return render(request, "home.html", principal, home=views.home_view(service_of(request)))

    def sharing_page(
        request: Request, principal: Principal, network_id: str, error: str | None = None
    ) -> HTMLResponse:
        service = service_of(request)
        try:
            net = views.network_view(service, network_id)
        except SettingsError as exc:
            raise HTTPException(404, str(exc)) from None
        return render(
            request, "sharing.html", principal, 422 if error else 200, net=net, error=error
        )

    @router.get("/sharing/{network_id}")
    async def sharing(request: Request, network_id: str) -> HTMLResponse:
        return sharing_page(request, page_user(request), network_id)

    def change(request: Request, network_id: str, csrf: str, make: Any) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        try:
            summary: str = make(principal)
        except (SettingsError, Forbidden) as exc:
            return sharing_page(request, principal, network_id, str(exc))
        return done(f"/sharing/{network_id}", summary)

    @router.post("/sharing/{network_id}/state")
    async def set_state(request: Request, network_id: str, csrf: Field, enabled: Field) -> Response:
        settings = service_of(request).settings
        cmd = Command(network_id, enabled=enabled == "true")
        return change(request, network_id, csrf, lambda p: settings.change_network(p.actor(), cmd))

    @router.post("/sharing/{network_id}/limit")
    async def set_limit(
        request: Request, network_id: str, csrf: Field, network_limit_a: Field
    ) -> Response:
        settings = service_of(request).settings

        def make(p: Principal) -> str:
            try:
                limit_a = float(network_limit_a)
            except ValueError:
                raise SettingsError(
                    f"max network current {network_limit_a!r} is not a number of amps"
                ) from None
            return settings.change_network(p.actor(), Command(network_id, network_limit_a=limit_a))

        return change(request, network_id, csrf, make)

    @router.post("/sharing/{network_id}/add")
    async def add(
        request: Request,
        network_id: str,
        csrf: Field,
        charger_id: Field = "",
        password: Field = "",
        qr: Field = "",
    ) -> Response:
        settings = service_of(request).settings

        principal = page_user(request)
        check_form_csrf(principal, csrf)
        try:
            cid, pw = parse_qr_payload(qr) if qr.strip() else (charger_id.strip(), password)
            if not cid:
                raise SettingsError("enter the charger's id and password, or its QR payload")
            summary = await settings.add_charger(principal.actor(), network_id, cid, pw)
        except (SettingsError, Forbidden) as exc:
            return sharing_page(request, principal, network_id, str(exc))
        return done(f"/sharing/{network_id}", summary)

    @router.post("/sharing/{network_id}/remove")
    async def remove(request: Request, network_id: str, csrf: Field, charger_id: Field) -> Response:
        settings = service_of(request).settings
        cmd = Command(network_id, remove=charger_id)
        return change(request, network_id, csrf, lambda p: settings.change_network(p.actor(), cmd))

    @router.get("/chargers/{charger_id}")
    async def charger(request: Request, charger_id: str) -> HTMLResponse:
        principal = page_user(request)
        service = service_of(request)
        if charger_id not in service.runtime.controller.topology.chargers:
            raise HTTPException(404, f"unknown charger {charger_id!r}")
        view = views.charger_view(service, charger_id)
        return render(request, "charger.html", principal, charger=view)

    def pcs_page(request: Request, principal: Principal, error: str | None = None) -> HTMLResponse:
        if principal.user.role != "installer":
            return render(
                request, "forbidden.html", principal, 403,
                reason="PCS settings may be changed only by qualified personnel "
                "(an installer account with a license number).",
            )  # fmt: skip
        pcs = views.pcs_view(service_of(request))
        return render(request, "pcs.html", principal, 422 if error else 200, pcs=pcs, error=error)

    @router.get("/pcs")
    async def pcs(request: Request) -> HTMLResponse:
        return pcs_page(request, page_user(request))

    @router.post("/pcs/license")
    async def pcs_license(request: Request, csrf: Field, license_number: Field) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        if principal.user.role != "installer":
            return pcs_page(request, principal)
        number = license_number.strip()
        if not number or len(number) > 64:
            return pcs_page(request, principal, "enter your license number (1 to 64 characters)")
        service = service_of(request)
        assert principal.cookie is not None
        service.accounts.set_license(principal.cookie, number)
        service.storage.add_event(
            service.clock.wall_s(), "auth", f"{principal.user.name} entered license {number}",
            who=principal.user.name,
        )  # fmt: skip
        return done("/pcs", "License number accepted until you sign out")

    @router.post("/pcs")
    async def set_pcs(
        request: Request,
        csrf: Field,
        panel_limit_a: Field = "",
        conductor_limit_a: Field = "",
        export_limit_a: Field = "",
    ) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        try:
            values = {
                "panel_limit_a": _amps("Panel Limit", panel_limit_a),
                "conductor_limit_a": _amps("Conductor Limit", conductor_limit_a),
                "export_limit_a": _amps("Site Export Limit", export_limit_a),
            }
            summary = service_of(request).settings.change_pcs(principal.actor(), values)
        except (SettingsError, Forbidden) as exc:
            return pcs_page(request, principal, str(exc))
        return done("/pcs", summary)

    @router.get("/live")
    async def live(request: Request) -> HTMLResponse:
        principal = page_user(request)
        service = service_of(request)
        view = service.settings.state_view()
        chargers = [views.charger_view(service, c.id, view) for c in service.runtime.site.chargers]
        return render(
            request, "live.html", principal,
            circuits=views.circuits_view(service), charger_views=chargers,
        )  # fmt: skip

    @router.get("/events")
    async def events(request: Request) -> HTMLResponse:
        principal = page_user(request)
        storage = service_of(request).storage
        return render(
            request, "events.html", principal,
            events=storage.events(200), history=storage.setting_history(limit=100),
        )  # fmt: skip

    @router.get("/access")
    async def access(request: Request) -> HTMLResponse:
        return render(request, "access.html", page_user(request))

    @router.post("/access/tokens")
    async def new_token(request: Request, csrf: Field, name: Field) -> HTMLResponse:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        service = service_of(request)
        label = name.strip()[:64] or "api"
        token = service.accounts.add_token(principal.user, label, service.clock.wall_s())
        service.storage.add_event(
            service.clock.wall_s(), "auth", f"{principal.user.name} created API token {label!r}",
            who=principal.user.name,
        )  # fmt: skip
        return render(request, "access.html", principal, token=token)

    return router


def _safe(path: str) -> str:
    """Only local paths after sign-in (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


def _amps(label: str, text: str) -> float | None:
    """A form's amps: blank clears the setting (disables that limit)."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise SettingsError(f"{label}: {text!r} is not a number of amps") from None
