"""Helpers for the OCPP tests: a clock the test moves, a store of registered charge points."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from panelpilot.drivers.ocpp import CredentialStore
from tests.databases import sqlite_database

# 1 Jan 2027 00:00 UTC: a wall-clock epoch for the simulated time.
T0 = 1_798_761_600.0
PASSWORD = "correct-horse-battery"


class ManualClock:
    """Wall-clock seconds that move only when the test says so."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    # A cheap Argon2 cost keeps the tests quick; the stored hash names its own parameters.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    credentials = CredentialStore(sqlite_database(tmp_path / "panelpilot.db"), hasher=cheap)
    for i in range(1, 9):
        credentials.add(f"cp{i}", PASSWORD)
    return credentials
