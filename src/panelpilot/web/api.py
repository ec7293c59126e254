"""The REST API under /api: site, devices, networks, settings, events (OpenAPI at /openapi.json).

Reads need a signed-in user or an API token (`Authorization: Bearer ...`); writes also need
the `X-CSRF-Token` header with a session cookie (`deps.Writer`). Who may change what is the
service's rule: its `Forbidden` becomes 403 (the app's handler), a refused change 422. Amps
and booleans are strict: `"10"`, `true` for a number, NaN and the infinities are refused (422,
naming the field). Responses are the service's read models (`service.views`) as they are.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool

from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.service.accounts import AccountError, check_license_number
from panelpilot.service.pairing import parse_qr_payload
from panelpilot.service.service import Service
from panelpilot.service.views import DevicesView, EventRecord, NetworkView, SettingsView
from panelpilot.web.deps import OptionsDep, Reader, ServiceDep, Writer
from panelpilot.web.numbers import Amps, PositiveAmps

ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed"},
    404: {"description": "No such thing"},
    422: {"description": "Refused, with the reason"},
}
Limit = Annotated[int, Query(ge=1, le=1000)]
BeforeId = Annotated[int | None, Query(ge=1, le=2**62)]

router = APIRouter(prefix="/api", responses=ERRORS)


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

    def credentials(self) -> tuple[str, str]:
        """The charger's id and password, however they were sent."""
        if self.qr:
            return parse_qr_payload(self.qr)
        if self.charger_id and self.password is not None:
            return self.charger_id, self.password
        raise SettingsError("send charger_id and password, or qr")


class PcsChange(_Strict):
    """New PCS limits (null clears = disables one); `license_number` of the qualified person."""

    panel_limit_a: Amps | None = None
    conductor_limit_a: Amps | None = None
    export_limit_a: Amps | None = None
    license_number: Annotated[str, Field(max_length=64)] | None = None


class Done(BaseModel):
    """What a change did."""

    summary: str


def _network(service: Service, network_id: str) -> NetworkView:
    net = service.reads.network(network_id)
    if net is None:
        raise HTTPException(404, f"unknown network {network_id!r}")
    return net


def _refused(exc: SettingsError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.get("/site", summary="The site as loaded (electrical tree, devices, limits)")
async def site(service: ServiceDep, _: Reader) -> dict[str, JsonValue]:
    """The site file as the service runs it, with the PCS settings in effect."""
    data: dict[str, JsonValue] = service.reads.site().model_dump(mode="json")
    return data


@router.get("/devices", summary="Every device with its last reading, decision and health")
async def devices(service: ServiceDep, _: Reader) -> DevicesView:
    """Chargers, meters, batteries, solar, and each driver's health."""
    return service.reads.devices()


@router.get("/networks", summary="Every power sharing network")
async def networks(service: ServiceDep, _: Reader) -> tuple[NetworkView, ...]:
    """Every network, in site file order."""
    return service.reads.networks()


@router.get("/networks/{network_id}", summary="One network")
async def network(service: ServiceDep, network_id: str, _: Reader) -> NetworkView:
    """One network."""
    return _network(service, network_id)


@router.patch("/networks/{network_id}", summary="Enable, disable, or set the limit")
async def patch_network(
    service: ServiceDep, network_id: str, body: NetworkPatch, who: Writer
) -> NetworkView:
    """Set the limit first (while disabled), then the state; the network as it then stands."""
    _network(service, network_id)
    commands = []
    if body.network_limit_a is not None:
        commands.append(Command(network_id, network_limit_a=body.network_limit_a))
    if body.enabled is not None:
        commands.append(Command(network_id, enabled=body.enabled))
    try:
        for cmd in commands:
            service.settings.change_network(who.actor(), cmd)
    except SettingsError as exc:
        raise _refused(exc) from None
    return _network(service, network_id)


@router.post("/networks/{network_id}/chargers", summary="Add a charger to a network")
async def add_charger(service: ServiceDep, network_id: str, body: AddCharger, who: Writer) -> Done:
    """Add a charger once the password on its sticker checks out."""
    _network(service, network_id)
    try:
        cid, password = body.credentials()
        summary = await service.settings.add_charger(who.actor(), network_id, cid, password)
    except SettingsError as exc:
        raise _refused(exc) from None
    return Done(summary=summary)


@router.delete("/networks/{network_id}/chargers/{charger_id}", summary="Remove a charger")
async def remove_charger(
    service: ServiceDep, network_id: str, charger_id: str, who: Writer
) -> Done:
    """Remove a charger (while disabled): it is held at 6 A until power-cycled."""
    _network(service, network_id)
    try:
        cmd = Command(network_id, remove=charger_id)
        summary = service.settings.change_network(who.actor(), cmd)
    except SettingsError as exc:
        raise _refused(exc) from None
    return Done(summary=summary)


@router.get("/settings", summary="Current settings and their history (who, when, license)")
async def settings(service: ServiceDep, _: Reader, limit: Limit = 100) -> SettingsView:
    """The PCS settings, every network, and the newest `limit` settings versions."""
    return service.reads.settings(limit)


@router.put("/settings/pcs", summary="Set the PCS limits (qualified personnel)")
async def put_pcs(service: ServiceDep, options: OptionsDep, body: PcsChange, who: Writer) -> Done:
    """Set the three limits; the license number sent (or the session's) is recorded."""
    values = body.model_dump(exclude={"license_number"})
    number = body.license_number
    if number is not None:
        try:
            check_license_number(number, options.license_pattern)
        except AccountError as exc:
            raise HTTPException(422, f"license_number: {exc}") from None
    try:
        summary = service.settings.change_pcs(who.actor(number.strip() if number else None), values)
    except SettingsError as exc:
        raise _refused(exc) from None
    return Done(summary=summary or "PCS: unchanged (nothing recorded)")


@router.get("/events", summary="The event log, newest first")
async def events(
    service: ServiceDep, _: Reader, limit: Limit = 100, before_id: BeforeId = None
) -> tuple[EventRecord, ...]:
    """The newest `limit` events (older than `before_id`, when given)."""
    return service.reads.events(limit, before_id)


@router.get("/decision", summary="The last cycle: decision and readings")
async def decision(service: ServiceDep, _: Reader) -> dict[str, JsonValue]:
    """The last cycle as the stream sent it."""
    latest = service.hub.latest
    if latest is None:
        raise HTTPException(404, "no cycle has run yet")
    return latest
