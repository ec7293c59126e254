"""Power Sharing: a network's state, its settings (behind the settings lock), its members.

Seed: "The network must be disabled before you may make any changes"; the service's settings
lock enforces it and says why a change is refused, and this page shows the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

from panelpilot.control.settings import SettingsError
from panelpilot.control.types import Command
from panelpilot.service.access import CHANGE_NETWORK, Forbidden, may
from panelpilot.service.pairing import parse_qr_payload
from panelpilot.web.deps import FormText, Page, Posted, SignedIn
from panelpilot.web.numbers import form_amps
from panelpilot.web.render import done

router = APIRouter(include_in_schema=False)


def _sharing(
    page: Page, network_id: str, error: str | None = None, typed_limit: str | None = None
) -> HTMLResponse:
    """The page, with the reason a change was refused (422) and the limit as typed."""
    reads = page.service.reads
    net = reads.network(network_id)
    if net is None:
        raise HTTPException(404, f"unknown network {network_id!r}")
    last = reads.last_change(f"network:{network_id}")
    return page.render(
        "sharing.html", 422 if error else 200, net=net, error=error, last=last,
        typed_limit=typed_limit, may_change=may(page.user.actor(), CHANGE_NETWORK),
        refusal=CHANGE_NETWORK.refusal, live_src=f"/sharing/{network_id}",
    )  # fmt: skip


def _change(
    page: Page, network_id: str, command: Callable[[], Command], code: str,
    typed_limit: str | None = None,
) -> Response:  # fmt: skip
    """Make one network change; back to the page with its notice, or with the refusal.

    A `Forbidden` (an owner, whose buttons are shown disabled) is shown in place like any
    refused change (422).
    """
    try:
        page.service.settings.change_network(page.user.actor(), command())
    except (SettingsError, Forbidden) as exc:
        return _sharing(page, network_id, str(exc), typed_limit)
    return done(f"/sharing/{network_id}", code)


@router.get("/sharing/{network_id}")
async def sharing(page: SignedIn, network_id: str) -> HTMLResponse:
    """A network's page."""
    return _sharing(page, network_id)


@router.post("/sharing/{network_id}/state")
async def set_state(page: Posted, network_id: str, enabled: FormText = "") -> Response:
    """Enable or disable power sharing."""

    def command() -> Command:
        if enabled not in ("true", "false"):
            raise SettingsError("network state: choose enable or disable")
        return Command(network_id, enabled=enabled == "true")

    return _change(page, network_id, command, "enabled" if enabled == "true" else "disabled")


@router.post("/sharing/{network_id}/limit")
async def set_limit(page: Posted, network_id: str, network_limit_a: FormText = "") -> Response:
    """Set the max network current (while disabled)."""

    def command() -> Command:
        limit_a = form_amps("Max network current", network_limit_a)
        return Command(network_id, network_limit_a=limit_a)

    return _change(page, network_id, command, "limit", network_limit_a)


@router.post("/sharing/{network_id}/add")
async def add(
    page: Posted, network_id: str, charger_id: FormText = "", password: FormText = "",
    qr: FormText = "",
) -> Response:  # fmt: skip
    """Add a charger by its id and the password on its sticker, or by its QR payload."""
    try:
        cid, pw = parse_qr_payload(qr) if qr.strip() else (charger_id.strip(), password)
        if not cid:
            raise SettingsError("enter the charger's id and password, or its QR payload")
        await page.service.settings.add_charger(page.user.actor(), network_id, cid, pw)
    except (SettingsError, Forbidden) as exc:
        return _sharing(page, network_id, str(exc))
    return done(f"/sharing/{network_id}", "added")


@router.post("/sharing/{network_id}/remove")
async def remove(page: Posted, network_id: str, charger_id: FormText) -> Response:
    """Remove a charger (while disabled): it is held at 6 A until it is power-cycled."""
    return _change(page, network_id, lambda: Command(network_id, remove=charger_id), "removed")
