"""Fixtures shared by the suite: a real MQTT broker, and the service's database on each
backend it supports.

`db_url` runs a test twice, on a SQLite file and on a fresh database of a real PostgreSQL
server (`tests/postgres.py`), which is started once per session, on the first test that
needs it, and stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from panelpilot.service.database import sqlite_url
from tests.mosquitto import Mosquitto
from tests.postgres import PostgresServer, postgres_server

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the service: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(str(tmp_path / "pp.db"))
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    with server.database() as url:
        yield url


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto broker of its own on a free port, stopped after the test."""
    broker = Mosquitto(tmp_path).start()
    try:
        yield broker
    finally:
        broker.stop()
