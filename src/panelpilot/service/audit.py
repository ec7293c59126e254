"""The audit trail, written in one place: settings versions and the account events.

Every settings change is committed as a version (who, when, license number, old and new) with
its event; sign-ins, sign-outs, license numbers and API tokens are `auth` events naming who.
The words of each record are here, so the event log reads the same whichever page, API route
or command made the change.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from panelpilot.control.settings import SettingsError
from panelpilot.service.access import Actor
from panelpilot.service.clock import Clock
from panelpilot.service.database import reason
from panelpilot.service.storage import Storage


class NotStored(SettingsError):
    """A change that could not be committed to the database, so it was not applied either."""


class Audit:
    """Writes the audit records of one service to its storage."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock
        # Told the reason when a settings version cannot be stored (the writer's alert).
        self.on_storage_failure: list[Callable[[str], None]] = []

    def setting(self, key: str, old: object, new: object, actor: Actor, summary: str) -> None:
        """Commit one settings version, or refuse the change in words the user can act on."""
        try:
            self.storage.record_setting(
                key,
                old,
                new,
                who=actor.name,
                license_number=actor.license_number,
                at_s=self.clock.wall_s(),
                summary=summary,
            )
        except (SQLAlchemyError, OSError) as exc:
            why = reason(exc)
            for notify in self.on_storage_failure:
                notify(why)
            raise NotStored(
                f"the change could not be saved ({why}), so it was not applied; nothing changed"
            ) from None

    def _auth(self, message: str, who: str | None = None) -> None:
        self.storage.add_event(self.clock.wall_s(), "auth", message, who=who)

    def sign_in_failed(self, name: str, address: str) -> None:
        """A wrong name or password (the name as typed, shortened, never the password)."""
        self._auth(f"failed sign-in as {name!r} from {address}")

    def signed_in(self, name: str, address: str) -> None:
        """A session started."""
        self._auth(f"{name} signed in from {address}", who=name)

    def signed_out(self, name: str) -> None:
        """A session ended by its user."""
        self._auth(f"{name} signed out", who=name)

    def license_entered(self, name: str, number: str) -> None:
        """Qualified personnel entered their license number for this session."""
        self._auth(f"{name} entered license {number}", who=name)

    def token_created(self, name: str, token_name: str, days: int) -> None:
        """An API token was made."""
        self._auth(f"{name} created API token {token_name!r} for {days} days", who=name)

    def token_revoked(self, name: str, token_name: str) -> None:
        """An API token was revoked by its user."""
        self._auth(f"{name} revoked API token {token_name!r}", who=name)
