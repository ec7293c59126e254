"""Access Controls: who is signed in, and the user's API tokens (made, listed, revoked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from panelpilot.control.settings import SettingsError
from panelpilot.service.accounts import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, AccountError
from panelpilot.web.deps import FormText, Page, Posted, SignedIn
from panelpilot.web.numbers import form_int
from panelpilot.web.render import done

router = APIRouter(include_in_schema=False)

TokenId = Annotated[int, Path(ge=1, le=2**62)]


def _access(
    page: Page, status: int = 200, token: str | None = None, error: str | None = None
) -> HTMLResponse:
    """The page; `token` is a new token's secret, shown this once."""
    service = page.service
    return page.render(
        "access.html", status, token=token, error=error, now_s=service.clock.wall_s(),
        tokens=service.accounts.tokens(page.user.user.name),
        days_default=TOKEN_DAYS_DEFAULT, days_max=TOKEN_DAYS_MAX,
    )  # fmt: skip


@router.get("/access")
async def access(page: SignedIn) -> HTMLResponse:
    """The Access Controls page."""
    return _access(page)


@router.post("/access/tokens")
async def new_token(
    page: Posted, name: FormText, days: FormText = str(TOKEN_DAYS_DEFAULT)
) -> HTMLResponse:
    """Make an API token for the signed-in user."""
    service, user = page.service, page.user.user
    try:
        lifetime = form_int("Expires after (days)", days, 1, TOKEN_DAYS_MAX)
        token = service.accounts.add_token(user, name, service.clock.wall_s(), lifetime)
    except (SettingsError, AccountError) as exc:
        return _access(page, 422, error=str(exc))
    service.audit.token_created(user.name, name.strip(), lifetime)
    return _access(page, token=token)


@router.post("/access/tokens/{token_id}/revoke")
async def revoke_token(page: Posted, token_id: TokenId) -> Response:
    """Revoke one of the signed-in user's tokens."""
    service, user = page.service, page.user.user
    try:
        record = service.accounts.revoke_token(token_id, user.name)
    except AccountError as exc:
        return _access(page, 404, error=str(exc))
    service.audit.token_revoked(user.name, record.name)
    return done("/access", "token_revoked")
