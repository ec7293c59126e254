"""Charge point registrations: hashed with Argon2id in the service's database (SQLite and
PostgreSQL), managed by a non-interactive command."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.drivers.ocpp import CredentialError, CredentialStore
from panelpilot.service import migrate, schema
from panelpilot.service.database import sqlite_url
from panelpilot.service.storage import Storage
from tests.databases import migrated

PASSWORD = "correct-horse-battery"
# The table as the store made it itself, in the SQLite file, before the migrations made it.
OLD_TABLE = (
    "CREATE TABLE ocpp_charge_points (charge_point_id VARCHAR(48) NOT NULL, "
    "password_hash VARCHAR(256) NOT NULL, created_at VARCHAR(32) NOT NULL, "
    "PRIMARY KEY (charge_point_id))"
)


def _stored_hashes(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [str(r[0]) for r in conn.execute(text("SELECT * FROM ocpp_charge_points"))]
    engine.dispose()
    return rows


def test_passwords_are_stored_hashed_and_verified(db_url: str) -> None:
    store = CredentialStore(migrated(db_url))
    store.add("WC-1", PASSWORD)
    stored = store.password_hash("WC-1")
    assert stored is not None and stored.startswith("$argon2id$")
    assert not any(PASSWORD in row for row in _stored_hashes(db_url))
    assert store.verify("WC-1", PASSWORD)
    assert not store.verify("WC-1", PASSWORD + "x")
    assert not store.verify("WC-2", PASSWORD)  # unknown id
    store.close()


def test_add_refuses_duplicates_bad_ids_and_short_passwords(db_url: str) -> None:
    store = CredentialStore(migrated(db_url))
    store.add("WC-1", PASSWORD)
    with pytest.raises(CredentialError, match="already registered"):
        store.add("WC-1", "another-password")
    store.add("WC-1", "another-password", replace=True)
    assert store.verify("WC-1", "another-password") and not store.verify("WC-1", PASSWORD)
    with pytest.raises(CredentialError, match="charge point id"):
        store.add("bad/id", PASSWORD)
    with pytest.raises(CredentialError, match="characters"):
        store.add("WC-2", "short")
    assert [r.charge_point_id for r in store.list()] == ["WC-1"]
    assert store.remove("WC-1") and not store.remove("WC-1")
    store.close()


def test_a_database_without_the_service_schema_is_refused_in_one_line(
    db_url: str, tmp_path: Path
) -> None:
    engine = create_engine(db_url)  # a database the migrations never ran on
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other (x INTEGER)")
    engine.dispose()
    with pytest.raises(CredentialError, match="no ocpp_charge_points table: run `panelpilot db"):
        CredentialStore(db_url)  # a database the migrations never ran on
    missing = tmp_path / "nowhere.db"
    with pytest.raises(CredentialError, match="no such file"):
        CredentialStore(sqlite_url(str(missing)))
    assert not missing.exists()  # never made (it would not be private)


def test_a_sqlite_file_with_the_old_table_is_adopted_with_its_registrations(
    tmp_path: Path,
) -> None:
    url = sqlite_url(str(tmp_path / "panelpilot.db"))
    old_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(OLD_TABLE)
        conn.execute(
            text("INSERT INTO ocpp_charge_points VALUES ('WC-1', :h, '2026-01-31T17:05:00+00:00')"),
            {"h": old_hash},
        )
    engine.dispose()
    storage = Storage.open(url)
    assert storage.schema_before is not None and storage.schema_before.legacy
    with storage.engine.connect() as conn:
        assert migrate.status(storage.engine).current == migrate.head() == "0002"
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    storage.close()
    store = CredentialStore(url)
    assert store.verify("WC-1", PASSWORD) and not store.verify("WC-1", PASSWORD + "x")
    assert [(r.charge_point_id, r.created_at) for r in store.list()] == [
        ("WC-1", "2026-01-31T17:05:00+00:00")
    ]
    store.close()


def test_the_chargers_command_adds_lists_and_removes(db_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["chargers", "add", "WC-1", "--password-stdin", "--db", db_url],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["chargers", "list", "--db", db_url])
    assert listed.exit_code == 0 and listed.stdout.startswith("WC-1\t")
    assert PASSWORD not in listed.stdout
    assert CredentialStore(db_url).verify("WC-1", PASSWORD)
    removed = runner.invoke(app, ["chargers", "remove", "WC-1", "--db", db_url])
    assert removed.exit_code == 0
    assert runner.invoke(app, ["chargers", "list", "--db", db_url]).stdout == ""


def test_a_bare_path_is_still_a_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    added = CliRunner().invoke(
        app, ["chargers", "add", "WC-1", "--password-stdin", "--db", str(db)], input=PASSWORD
    )
    assert added.exit_code == 0, added.output
    assert CredentialStore(sqlite_url(str(db))).verify("WC-1", PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "WC-1"], PASSWORD, "--password-stdin"),
        (["add", "WC-1", "--password-stdin"], "short\n", "characters"),
        (["add", "bad id", "--password-stdin"], PASSWORD, "charge point id"),
        (["remove", "WC-9"], "", "not registered"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    result = CliRunner().invoke(
        app, ["chargers", *args, "--db", str(tmp_path / "p.db")], input=stdin
    )
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_file_that_is_not_a_database_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = CliRunner().invoke(app, ["chargers", "list", "--db", str(junk)])
    assert result.exit_code == 2 and "junk.db" in result.stderr
    assert "not a database" in result.stderr and len(result.stderr.splitlines()) == 1
