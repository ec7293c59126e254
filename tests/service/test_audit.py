"""The audit trail: every account event names who, every settings change is a version."""

from __future__ import annotations

from pathlib import Path

import pytest

from panelpilot.service.access import Actor
from panelpilot.service.audit import Audit, NotStored
from panelpilot.service.clock import ManualClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.storage import Storage


def _audit(url: str) -> Audit:
    return Audit(Storage.open(url), ManualClock())


def test_account_events_say_what_happened_and_who_did_it(db_url: str) -> None:
    audit = _audit(db_url)
    audit.sign_in_failed("mallory", "203.0.113.66")
    audit.signed_in("ivan", "192.0.2.10")
    audit.license_entered("ivan", "EC-4711")
    audit.token_created("ivan", "ha", 30)
    audit.token_revoked("ivan", "ha")
    audit.signed_out("ivan")
    events = audit.storage.events()[::-1]
    assert [(e.kind, e.who, e.message) for e in events if e.kind == "auth"] == [
        ("auth", None, "failed sign-in as 'mallory' from 203.0.113.66"),
        ("auth", "ivan", "ivan signed in from 192.0.2.10"),
        ("auth", "ivan", "ivan entered license EC-4711"),
        ("auth", "ivan", "ivan created API token 'ha' for 30 days"),
        ("auth", "ivan", "ivan revoked API token 'ha'"),
        ("auth", "ivan", "ivan signed out"),
    ]


def test_a_setting_is_a_version_with_who_and_license(db_url: str) -> None:
    audit = _audit(db_url)
    audit.setting("pcs", {"a": 1}, {"a": 2}, Actor("ivan", "installer", "EC-1"), "PCS: a")
    (version,) = audit.storage.setting_history()
    assert (version.key, version.old, version.new) == ("pcs", {"a": 1}, {"a": 2})
    assert (version.who, version.license_number, version.summary) == ("ivan", "EC-1", "PCS: a")


def test_a_setting_that_cannot_be_stored_is_refused_and_told(tmp_path: Path) -> None:
    audit = _audit(sqlite_url(str(tmp_path / "audit.db")))
    told: list[str] = []
    audit.on_storage_failure.append(told.append)
    audit.storage.engine.dispose()
    (tmp_path / "audit.db").unlink()
    (tmp_path / "audit.db").mkdir()  # a directory where the database was: every write fails
    with pytest.raises(NotStored, match="could not be saved"):
        audit.setting("pcs", None, {}, Actor("ivan", "installer"), "PCS")
    assert len(told) == 1
