"""The charge points' credential file is created private (it holds password hashes)."""

from __future__ import annotations

import stat
from pathlib import Path

from argon2 import PasswordHasher

from panelpilot.drivers.ocpp.credentials import CredentialStore


def test_a_new_credential_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    store = CredentialStore(db, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    store.add("WC-1", "a password of 16+")
    store.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
