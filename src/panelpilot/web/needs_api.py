"""The API of charging needs: what each session needs, and the owner's word on it.

`GET /api/needs` gives every charger's need as the last snapshot carried it (source,
departure, energy wanted, delivered since, still wanted); `PUT /api/chargers/{id}/need` says
"leaving at 07:30, needs 25 kWh" for the car plugged in now, `DELETE` forgets it. Every
account may; each change is in the audit trail (docs/api.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from panelpilot.control.settings import SettingsError
from panelpilot.service.views import NeedView
from panelpilot.web.api import ERRORS, Done
from panelpilot.web.deps import Reader, ServiceDep, Writer

router = APIRouter(prefix="/api", responses=ERRORS)

# A finite number; its range (0 < kWh <= 500) is the service's to refuse, in its words.
EnergyKwh = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class NeedChange(BaseModel):
    """The owner's need for the session plugged in now: `departure` "HH:MM", `energy_kwh`."""

    model_config = ConfigDict(extra="forbid")

    departure: Annotated[str, Field(max_length=5)] | None = None
    energy_kwh: EnergyKwh | None = None


def _no_needs() -> HTTPException:
    return HTTPException(404, "this service keeps no charging needs")


@router.get("/needs", summary="Each charger's charging need, as the last snapshot carried it")
async def needs(service: ServiceDep, _: Reader) -> dict[str, NeedView]:
    """Chargers with a known need: its source, departure (epoch s), energy wanted, delivered
    since it was set and still wanted (Wh)."""
    if service.needs is None:
        raise _no_needs()
    return service.needs.views()


@router.put("/chargers/{charger_id}/need", summary="Leaving at HH:MM, needs N kWh (this session)")
async def put_need(service: ServiceDep, charger_id: str, body: NeedChange, who: Writer) -> Done:
    """The owner's need for the car plugged in now; it ends with the session."""
    if service.needs is None:
        raise _no_needs()
    try:
        summary = service.needs.set_need(who.actor(), charger_id, body.departure, body.energy_kwh)
    except SettingsError as exc:
        raise HTTPException(422, str(exc)) from None
    return Done(summary=summary)


@router.delete("/chargers/{charger_id}/need", summary="Forget the owner's need")
async def delete_need(service: ServiceDep, charger_id: str, who: Writer) -> Done:
    """The defaults and the estimate count again."""
    if service.needs is None:
        raise _no_needs()
    try:
        summary = service.needs.clear_need(who.actor(), charger_id)
    except SettingsError as exc:
        raise HTTPException(422, str(exc)) from None
    return Done(summary=summary)
