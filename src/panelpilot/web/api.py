"""The REST API under /api: site, devices, networks, settings, events (OpenAPI at /openapi.json).

Reads need a signed-in user or an API token (`Authorization: Bearer ...`); writes also need
the installer role, and, with a session cookie, the `X-CSRF-Token` header. Amps and booleans
are strict: `"10"`, `true` for a number, NaN and the infinities are refused (422, naming the
field).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from panelpilot.control.codec import decision_to_json
from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.service.accounts import AccountError, check_license_number
from panelpilot.service.pairing import parse_qr_payload
from panelpilot.service.settings import Forbidden
from panelpilot.web import views
from panelpilot.web.auth import Principal, options_of, require_user, require_writer, service_of
from panelpilot.web.numbers import Amps, PositiveAmps

Reader = Annotated[Principal, Depends(require_user)]
Writer = Annotated[Principal, Depends(require_writer)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed"},
    404: {"description": "No such thing"},
    422: {"description": "Refused, with the reason"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NetworkPatch(_Strict):
    """Change a network: its state, or (while disabled) its max network current."""

    enabled: StrictBool | None = None
    network_limit_a: PositiveAmps | None = None


class AddCharger(_Strict):
    """Add a charger by its id and password, or by the payload of its QR code."""

    charger_id: Annotated[str, Field(max_length=64)] | None = None
    password: Annotated[str, Field(max_length=128)] | None = None
    qr: Annotated[str, Field(max_length=512)] | None = None


class PcsChange(_Strict):
    """New PCS limits (null clears = disables one); `license_number` of the qualified person."""

    panel_limit_a: Amps | None = None
    conductor_limit_a: Amps | None = None
    export_limit_a: Amps | None = None
    license_number: Annotated[str, Field(max_length=64)] | None = None


class Done(BaseModel):
    """What a change did."""

    summary: str


def _refused(exc: Exception) -> HTTPException:
    if isinstance(exc, Forbidden):
        return HTTPException(403, str(exc))
    return HTTPException(422, str(exc))


def api_router() -> APIRouter:
    """The /api routes."""
    router = APIRouter(prefix="/api", responses=ERRORS)

    @router.get("/site", summary="The site as loaded (electrical tree, devices, limits)")
    async def site(request: Request, _: Reader) -> dict[str, Any]:
        data: dict[str, Any] = service_of(request).runtime.site.model_dump(mode="json")
        return data

    @router.get("/devices", summary="Every device with its last reading, decision and health")
    async def devices(request: Request, _: Reader) -> dict[str, Any]:
        service = service_of(request)
        last = service.runtime.last
        site = service.runtime.site
        view = service.settings.state_view()
        health = {
            k: {"up": s.health.up, "failures": s.health.failures, "error": s.health.last_error}
            for k, s in service.runtime.supervisors.items()
        }
        return {
            "chargers": [views.charger_view(service, c.id, view) for c in site.chargers],
            "meters": {
                m: {"current_a": last.snapshot.meters.get(m) if last else None}
                for m in sorted(site.meter_ids())
            },
            "batteries": {
                b.id: decision_to_json(last.decision)["batteries"].get(b.id) if last else None
                for b in site.batteries
            },
            "solar": {
                s.id: decision_to_json(last.decision)["solar"].get(s.id) if last else None
                for s in site.solar
            },
            "health": health,
        }

    @router.get("/networks", summary="Every power sharing network")
    async def networks(request: Request, _: Reader) -> list[dict[str, Any]]:
        service = service_of(request)
        return [views.network_view(service, n.id) for n in service.runtime.site.networks]

    def network_or_404(request: Request, network_id: str) -> dict[str, Any]:
        try:
            return views.network_view(service_of(request), network_id)
        except SettingsError as exc:
            raise HTTPException(404, str(exc)) from None

    @router.get("/networks/{network_id}", summary="One network")
    async def network(request: Request, network_id: str, _: Reader) -> dict[str, Any]:
        return network_or_404(request, network_id)

    @router.patch("/networks/{network_id}", summary="Enable, disable, or set the limit")
    async def patch_network(
        request: Request, network_id: str, body: NetworkPatch, who: Writer
    ) -> dict[str, Any]:
        network_or_404(request, network_id)
        settings = service_of(request).settings
        commands = []
        if body.network_limit_a is not None:
            commands.append(Command(network_id, network_limit_a=body.network_limit_a))
        if body.enabled is not None:
            commands.append(Command(network_id, enabled=body.enabled))
        try:
            for cmd in commands:
                settings.change_network(who.actor(), cmd)
        except (SettingsError, Forbidden) as exc:
            raise _refused(exc) from None
        return network_or_404(request, network_id)

    @router.post("/networks/{network_id}/chargers", summary="Add a charger to a network")
    async def add_charger(request: Request, network_id: str, body: AddCharger, who: Writer) -> Done:
        network_or_404(request, network_id)
        try:
            if body.qr:
                cid, password = parse_qr_payload(body.qr)
            elif body.charger_id and body.password is not None:
                cid, password = body.charger_id, body.password
            else:
                raise SettingsError("send charger_id and password, or qr")
            summary = await service_of(request).settings.add_charger(
                who.actor(), network_id, cid, password
            )
        except (SettingsError, Forbidden) as exc:
            raise _refused(exc) from None
        return Done(summary=summary)

    @router.delete("/networks/{network_id}/chargers/{charger_id}", summary="Remove a charger")
    async def remove_charger(
        request: Request, network_id: str, charger_id: str, who: Writer
    ) -> Done:
        network_or_404(request, network_id)
        try:
            summary = service_of(request).settings.change_network(
                who.actor(), Command(network_id, remove=charger_id)
            )
        except (SettingsError, Forbidden) as exc:
            raise _refused(exc) from None
        return Done(summary=summary)

    @router.get("/settings", summary="Current settings and their history (who, when, license)")
    async def settings(
        request: Request, _: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        service = service_of(request)
        return {
            "pcs": views.pcs_view(service),
            "networks": {
                n.id: views.network_view(service, n.id) for n in service.runtime.site.networks
            },
            "history": [
                {
                    "id": v.id,
                    "key": v.key,
                    "old": v.old,
                    "new": v.new,
                    "who": v.who,
                    "license_number": v.license_number,
                    "at_s": v.at_s,
                    "summary": v.summary,
                }
                for v in service.storage.setting_history(limit=limit)
            ],
        }

    @router.put("/settings/pcs", summary="Set the PCS limits (qualified personnel)")
    async def put_pcs(request: Request, body: PcsChange, who: Writer) -> Done:
        values = body.model_dump(exclude={"license_number"})
        if body.license_number is not None:
            try:
                check_license_number(body.license_number, options_of(request).license_pattern)
            except AccountError as exc:
                raise HTTPException(422, f"license_number: {exc}") from None
        try:
            summary = service_of(request).settings.change_pcs(
                who.actor(body.license_number.strip() if body.license_number else None), values
            )
        except (SettingsError, Forbidden) as exc:
            raise _refused(exc) from None
        return Done(summary=summary)

    @router.get("/events", summary="The event log, newest first")
    async def events(
        request: Request,
        _: Reader,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    ) -> list[dict[str, Any]]:
        return [
            {
                "id": e.id,
                "at_s": e.at_s,
                "kind": e.kind,
                "severity": e.severity,
                "code": e.code,
                "device": e.device,
                "who": e.who,
                "message": e.message,
            }
            for e in service_of(request).storage.events(limit, before_id)
        ]

    @router.get("/decision", summary="The last cycle: decision and readings")
    async def decision(request: Request, _: Reader) -> dict[str, Any]:
        latest = service_of(request).hub.latest
        if latest is None:
            raise HTTPException(404, "no cycle has run yet")
        return latest

    return router
