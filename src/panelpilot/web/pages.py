"""The server-rendered pages: Home, Power Sharing, chargers, PCS settings, live view, events.

Every form carries the session's CSRF token. A refused change re-renders its page with the
reason (status 422); an accepted one redirects back with a notice code (`render.NOTICES`),
and the page shows the newest change from the settings history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.service.accounts import AccountError, check_license_number
from panelpilot.service.pairing import parse_qr_payload
from panelpilot.service.settings import Forbidden
from panelpilot.service.storage import SettingVersion
from panelpilot.web import views
from panelpilot.web.auth import Principal, check_form_csrf, options_of, page_user, service_of
from panelpilot.web.numbers import form_amps, optional_form_amps
from panelpilot.web.render import done, renderer

Field = Annotated[str, Form()]


def pages_router(templates: Jinja2Templates) -> APIRouter:
    """The page routes, rendered with `templates`."""
    router = APIRouter(include_in_schema=False)

    render = renderer(templates)

    def last_change(request: Request, key: str) -> SettingVersion | None:
        newest = service_of(request).storage.setting_history(key, limit=1)
        return newest[0] if newest else None

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
            request, "sharing.html", principal, 422 if error else 200, net=net, error=error,
            last=last_change(request, f"network:{network_id}"),
        )  # fmt: skip

    @router.get("/sharing/{network_id}")
    async def sharing(request: Request, network_id: str) -> HTMLResponse:
        return sharing_page(request, page_user(request), network_id)

    def change(
        request: Request, network_id: str, csrf: str, make: Callable[[Principal], str], code: str
    ) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        try:
            make(principal)
        except (SettingsError, Forbidden) as exc:
            return sharing_page(request, principal, network_id, str(exc))
        return done(f"/sharing/{network_id}", code)

    @router.post("/sharing/{network_id}/state")
    async def set_state(
        request: Request, network_id: str, csrf: Field, enabled: Field = ""
    ) -> Response:
        settings = service_of(request).settings

        def make(p: Principal) -> str:
            if enabled not in ("true", "false"):
                raise SettingsError("network state: choose enable or disable")
            cmd = Command(network_id, enabled=enabled == "true")
            return settings.change_network(p.actor(), cmd)

        code = "enabled" if enabled == "true" else "disabled"
        return change(request, network_id, csrf, make, code)

    @router.post("/sharing/{network_id}/limit")
    async def set_limit(
        request: Request, network_id: str, csrf: Field, network_limit_a: Field = ""
    ) -> Response:
        settings = service_of(request).settings

        def make(p: Principal) -> str:
            limit_a = form_amps("Max network current", network_limit_a)
            return settings.change_network(p.actor(), Command(network_id, network_limit_a=limit_a))

        return change(request, network_id, csrf, make, "limit")

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
            await settings.add_charger(principal.actor(), network_id, cid, pw)
        except (SettingsError, Forbidden) as exc:
            return sharing_page(request, principal, network_id, str(exc))
        return done(f"/sharing/{network_id}", "added")

    @router.post("/sharing/{network_id}/remove")
    async def remove(request: Request, network_id: str, csrf: Field, charger_id: Field) -> Response:
        settings = service_of(request).settings
        cmd = Command(network_id, remove=charger_id)
        return change(
            request, network_id, csrf, lambda p: settings.change_network(p.actor(), cmd), "removed"
        )

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
        return render(
            request, "pcs.html", principal, 422 if error else 200, pcs=pcs, error=error,
            last=last_change(request, "pcs"),
        )  # fmt: skip

    @router.get("/pcs")
    async def pcs(request: Request) -> HTMLResponse:
        return pcs_page(request, page_user(request))

    @router.post("/pcs/license")
    async def pcs_license(request: Request, csrf: Field, license_number: Field) -> Response:
        principal = page_user(request)
        check_form_csrf(principal, csrf)
        if principal.user.role != "installer":
            return pcs_page(request, principal)
        try:
            number = check_license_number(license_number, options_of(request).license_pattern)
        except AccountError as exc:
            return pcs_page(request, principal, str(exc))
        service = service_of(request)
        assert principal.cookie is not None
        service.accounts.set_license(principal.cookie, number)
        service.storage.add_event(
            service.clock.wall_s(), "auth", f"{principal.user.name} entered license {number}",
            who=principal.user.name,
        )  # fmt: skip
        return done("/pcs", "license")

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
                "panel_limit_a": optional_form_amps("Panel Limit", panel_limit_a),
                "conductor_limit_a": optional_form_amps("Conductor Limit", conductor_limit_a),
                "export_limit_a": optional_form_amps("Site Export Limit", export_limit_a),
            }
            service_of(request).settings.change_pcs(principal.actor(), values)
        except (SettingsError, Forbidden) as exc:
            return pcs_page(request, principal, str(exc))
        return done("/pcs", "pcs")

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

    return router
