"""The server-rendered pages, one module per page (the room for a change to a page).

Each module declares its routes on its own `router`; `pages_router` puts them together. A
route declares what it needs (`deps.SignedIn`, or `deps.Posted` for a form whose CSRF token
is checked) and reads through `service.reads`; every form carries the session's CSRF token.
A refused change re-renders its page with the reason (status 422); an accepted one redirects
back with a notice code (`render.NOTICES`), and the page shows the newest change from the
settings history.
"""

from __future__ import annotations

from fastapi import APIRouter

from panelpilot.web.pages import access, charger, events, home, live, need, pcs, sharing, signin

PAGES = (signin, home, sharing, charger, need, pcs, live, events, access)


def pages_router() -> APIRouter:
    """Every page's routes."""
    router = APIRouter(include_in_schema=False)
    for page in PAGES:
        router.include_router(page.router)
    return router
