"""Rendering a page: the signed-in user, the CSRF token, and a notice chosen by code.

A page's notice comes from the fixed table `NOTICES`, picked by `?done=<code>`; no text from
the query string reaches a page, so a link cannot make the service appear to say anything.
The templates are the app's (`app.state.templates`, set by `create_app`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from panelpilot.web.auth import Principal, service_of

NOTICES = {
    "enabled": "Power sharing enabled.",
    "disabled": "Power sharing disabled: every charger runs at its fallback limit.",
    "limit": "Max network current saved.",
    "added": "Charger added to the network.",
    "removed": "Charger removed: it is held at 6 A until it is power-cycled.",
    "pcs": "PCS limits saved.",
    "pcs_same": "PCS limits unchanged: the values are the ones in effect.",
    "license": "License number accepted until you sign out.",
    "token_revoked": "API token revoked: it no longer works.",
    "need": "Charging need saved for this session.",
    "need_cleared": "Charging need cleared: the site's defaults and the estimate count again.",
}


def render(
    request: Request, name: str, principal: Principal | None, status: int = 200, **ctx: object
) -> HTMLResponse:
    """The template `name` for `principal` (None on the sign-in page), with `ctx`."""
    service = service_of(request)
    templates: Jinja2Templates = request.app.state.templates
    session = principal.session if principal else None
    nav = service.reads.nav()
    context = {
        "user": principal.user if principal else None,
        "csrf": session.csrf if session else "",
        "license_number": session.license_number if session else None,
        "networks": nav.network_ids,
        "chargers": nav.charger_ids,
        "message": NOTICES.get(request.query_params.get("done", "")),
        "version": service.version,
        **ctx,
    }
    return templates.TemplateResponse(request, name, context, status_code=status)


def done(path: str, code: str) -> RedirectResponse:
    """Back to `path` after a change, with the notice of `code` (a key of `NOTICES`)."""
    assert code in NOTICES, code
    return RedirectResponse(f"{path}?done={code}", status_code=303)
