"""PCS Settings: Panel, Conductor and Site Export Limits, for qualified personnel only.

Who may open and change them is the service's rule (`service.access`); a refusal raises
`Forbidden`, which the app shows as its 403 page. The license number is kept in the session
until sign-out and in the settings history with every change.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from panelpilot.control.settings import SettingsError
from panelpilot.service.access import ENTER_LICENSE, OPEN_PCS, Forbidden, check
from panelpilot.service.accounts import AccountError, check_license_number
from panelpilot.web.auth import options_of
from panelpilot.web.deps import FormText, Page, Posted, SignedIn
from panelpilot.web.numbers import optional_form_amps
from panelpilot.web.render import done

router = APIRouter(include_in_schema=False)


def _pcs(page: Page, error: str | None = None) -> HTMLResponse:
    """The page, with the reason a change was refused (422) if there was one."""
    check(page.user.actor(), OPEN_PCS)
    reads = page.service.reads
    last = reads.last_change("pcs")
    return page.render("pcs.html", 422 if error else 200, pcs=reads.pcs(), error=error, last=last)


@router.get("/pcs")
async def pcs(page: SignedIn) -> HTMLResponse:
    """The PCS settings page."""
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
    """Save the three limits (a blank field disables that limit)."""
    try:
        values = {
            "panel_limit_a": optional_form_amps("Panel Limit", panel_limit_a),
            "conductor_limit_a": optional_form_amps("Conductor Limit", conductor_limit_a),
            "export_limit_a": optional_form_amps("Site Export Limit", export_limit_a),
        }
        page.service.settings.change_pcs(page.user.actor(), values)
    except (SettingsError, Forbidden) as exc:
        return _pcs(page, str(exc))
    return done("/pcs", "pcs")
