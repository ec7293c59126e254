"""The FastAPI dependencies every route declares instead of checking by hand.

* `SignedIn`: a page for a signed-in browser user (else a redirect to sign in);
* `Posted`: the same for a form post, whose `csrf` field must be the session's (else 403);
* `Reader` / `Writer`: an API user (session or token; else 401), and for writes the
  `X-CSRF-Token` header when the user came with a session cookie (else 403).

Who may make which change is not checked here: the service decides (`service.access`) and
raises `Forbidden`, which the app turns into its 403 page or JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse

from panelpilot.service.service import Service
from panelpilot.web.auth import (
    Principal,
    check_form_csrf,
    options_of,
    page_user,
    require_user,
    require_writer,
    service_of,
)
from panelpilot.web.options import WebOptions
from panelpilot.web.render import render


@dataclass(frozen=True, slots=True)
class Page:
    """A page request with its signed-in user."""

    request: Request
    user: Principal

    @property
    def service(self) -> Service:
        """The service the app was created for."""
        return service_of(self.request)

    def render(self, name: str, status: int = 200, **ctx: object) -> HTMLResponse:
        """The template `name` for this user."""
        return render(self.request, name, self.user, status, **ctx)


def signed_in(request: Request) -> Page:
    """A page's signed-in browser user, or a redirect to the sign-in page."""
    return Page(request, page_user(request))


def posted(request: Request, csrf: Annotated[str, Form()]) -> Page:
    """A form post's signed-in user, whose form carries the session's CSRF token."""
    user = page_user(request)
    check_form_csrf(user, csrf)
    return Page(request, user)


SignedIn = Annotated[Page, Depends(signed_in)]
Posted = Annotated[Page, Depends(posted)]
Reader = Annotated[Principal, Depends(require_user)]
Writer = Annotated[Principal, Depends(require_writer)]
ServiceDep = Annotated[Service, Depends(service_of)]
OptionsDep = Annotated[WebOptions, Depends(options_of)]
FormText = Annotated[str, Form()]
