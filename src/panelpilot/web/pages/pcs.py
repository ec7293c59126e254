"""PCS Settings: Panel, Conductor and Site Export Limits. Everyone signed in sees them; only
qualified personnel change them.

Who may change them is the service's rule (`service.access`): an owner sees the page read-only
(the form disabled, saying who may change it); a change an owner posts anyway is refused by
the service (`Forbidden`, the 403 page). The license number is kept in the session until
sign-out and in the settings history with every change. A refused change shows the values as
typed, with the reason in the field's words ("Panel Limit 250 A: allowed 10-200 A").
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from panelpilot.control.settings import SettingsError
from panelpilot.service.access import CHANGE_PCS, ENTER_LICENSE, Forbidden, check, may
from panelpilot.service.accounts import AccountError, check_license_number
from panelpilot.web.auth import options_of
from panelpilot.web.deps import FormText, Page, Posted, SignedIn
from panelpilot.web.numbers import optional_form_amps
from panelpilot.web.render import done

router = APIRouter(include_in_schema=False)

# The site file's field names, as the service's refusals name them, in the page's words.
FIELD_WORDS = {
    "pcs.panel_limit_a": "Panel Limit",
    "pcs.conductor_limit_a": "Conductor Limit",
    "pcs.conductor_meter": "Conductor Limit",
    "pcs.export_limit_a": "Site Export Limit",
    "pcs.export_meter": "Site Export Limit",
    "pcs.panel": "Panel Limit",
}


def in_words(reason: str) -> str:
    """A refusal naming site file fields, naming the page's fields instead."""
    for name, words in FIELD_WORDS.items():
        reason = reason.replace(f"{name}: ", f"{words}: ")
    return reason


def _pcs(
    page: Page, error: str | None = None, typed: Mapping[str, str] | None = None
) -> HTMLResponse:
    """The page, with the reason a change was refused (422) and the values as typed."""
    reads = page.service.reads
    last = reads.last_change("pcs")
    return page.render(
        "pcs.html", 422 if error else 200, pcs=reads.pcs(), error=error, last=last,
        typed=typed or {}, may_change=may(page.user.actor(), CHANGE_PCS),
    )  # fmt: skip


@router.get("/pcs")
async def pcs(page: SignedIn) -> HTMLResponse:
    """The PCS settings page (read-only for an owner)."""
    return _pcs(page)


@router.post("/pcs/license")
async def pcs_license(page: Posted, license_number: FormText) -> Response:
    """Enter the license number of the qualified person signed in."""
    check(page.user.actor(), ENTER_LICENSE)
    service = page.service
    try:
        number = check_license_number(license_number, options_of(page.request).license_pattern)
    except AccountError as exc:
        return _pcs(page, str(exc))
    assert page.user.cookie is not None  # a page user has a session
    service.accounts.set_license(page.user.cookie, number)
    service.audit.license_entered(page.user.user.name, number)
    return done("/pcs", "license")


@router.post("/pcs")
async def set_pcs(
    page: Posted, panel_limit_a: FormText = "", conductor_limit_a: FormText = "",
    export_limit_a: FormText = "",
) -> Response:  # fmt: skip
    """Save the limits (a blank field disables that limit). The Conductor Limit is taken only
    where the site has a conductor meter (the page offers the field only there)."""
    typed = {"panel_limit_a": panel_limit_a, "export_limit_a": export_limit_a}
    try:
        now = page.service.reads.pcs()
        values = {
            "panel_limit_a": optional_form_amps(
                "Panel Limit", panel_limit_a, now.panel_limit_min_a, now.panel_limit_max_a
            ),
            "export_limit_a": optional_form_amps("Site Export Limit", export_limit_a),
        }
        if now.conductor_meter is not None:
            typed["conductor_limit_a"] = conductor_limit_a
            values["conductor_limit_a"] = optional_form_amps("Conductor Limit", conductor_limit_a)
        summary = page.service.settings.change_pcs(page.user.actor(), values)
    except (SettingsError, Forbidden) as exc:
        return _pcs(page, in_words(str(exc)), typed)
    return done("/pcs", "pcs" if summary else "pcs_same")
