"""Schema migrations: a database made before them is adopted with its rows, a new one comes out
as `service/schema.py` declares, a newer one is refused; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.service import migrate, schema
from panelpilot.service.accounts import DAY_S, Accounts, User
from panelpilot.service.database import StorageError
from panelpilot.service.storage import Storage
from tests.postgres import free_port

FIXTURES = Path(__file__).with_name("fixtures")
runner = CliRunner()
# Rows as the releases before migrations stored them (no ids given: the sequences count).
OLD_ROWS = [
    "INSERT INTO setting_versions (key, old_json, new_json, who, license_number, at_s, summary)"
    " VALUES ('pcs', NULL, '{\"panel_limit_a\": 90}', 'ivan', 'EC-1', 1.5, 'PCS: 90 A')",
    "INSERT INTO events (at_s, kind, severity, code, device, who, message)"
    " VALUES (1.5, 'setting', 'info', NULL, NULL, 'ivan', 'PCS: 90 A')",
    "INSERT INTO telemetry (at_s, step_s, data_json) VALUES (2.0, 0, '{\"t\": 2}')",
]


def _run_sql(url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _old_schema(url: str) -> list[str]:
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    ddl = (FIXTURES / f"schema-before-migrations.{dialect}.sql").read_text()
    body = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def test_a_database_made_before_migrations_keeps_its_rows_and_reaches_head(db_url: str) -> None:
    _run_sql(db_url, _old_schema(db_url) + OLD_ROWS)
    old = Storage.open(db_url)
    assert old.schema_before is not None and old.schema_before.legacy
    assert migrate.status(old.engine).current == migrate.head()
    assert old.latest_settings() == {"pcs": {"panel_limit_a": 90}}
    (version,) = old.setting_history()
    assert (version.who, version.license_number, version.at_s) == ("ivan", "EC-1", 1.5)
    assert [e.message for e in old.events()] == ["PCS: 90 A"]
    assert old.telemetry(0) == [(2.0, 0, {"t": 2})]
    # New rows get new ids (the ids of the old rows are not handed out again).
    new_id = old.add_event(3.0, "service", "upgraded")
    assert new_id > version.id and len(old.events()) == 2
    old.close()
    again = Storage.open(db_url)  # a second start changes nothing
    assert again.schema_before is not None and again.schema_before.up_to_date
    again.close()


def test_tokens_from_before_they_expired_get_the_default_lifetime(db_url: str) -> None:
    pk = "SERIAL PRIMARY KEY" if db_url.startswith("postgresql") else "INTEGER PRIMARY KEY"
    _run_sql(
        db_url,
        [
            f'CREATE TABLE tokens (id {pk}, name VARCHAR(64) NOT NULL, "user" VARCHAR(64) '
            "NOT NULL, token_hash VARCHAR(64) NOT NULL UNIQUE, created_s FLOAT NOT NULL)",
            "INSERT INTO tokens (name, \"user\", token_hash, created_s) VALUES ('x', 'nobody', "
            "'0000', 0.0)",
        ],
    )
    storage = Storage.open(db_url)
    accounts = Accounts(storage)
    assert [t.expires_s for t in accounts.tokens()] == [90 * DAY_S]
    user = accounts.add_user("ann", "owner", "long enough", 0.0)
    token = accounts.add_token(user, "new", 0.0)
    assert accounts.token_user(token, 89 * DAY_S) == User("ann", "owner")
    assert accounts.token_user(token, 90 * DAY_S) is None
    storage.close()


def test_the_migrations_make_exactly_the_declared_schema(db_url: str) -> None:
    storage = Storage.open(db_url)
    with storage.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    storage.close()
    assert differences == []


def test_a_database_migrated_by_a_newer_release_is_refused_untouched(db_url: str) -> None:
    Storage.open(db_url).close()
    _run_sql(db_url, ["UPDATE alembic_version SET version_num = '9999'"])
    with pytest.raises(StorageError, match=r"schema revision 9999, made by a newer panelpilot"):
        Storage.open(db_url)
    result = runner.invoke(app, ["users", "list", "--db", db_url])
    assert result.exit_code == 2 and "newer panelpilot" in result.output
    assert "Traceback" not in result.output
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    engine.dispose()


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = f"postgresql+psycopg://pp:s3cret-pw@127.0.0.1:{free_port()}/panelpilot"
    result = runner.invoke(app, ["users", "list", "--db", url])
    assert result.exit_code == 2, result.output
    assert "cannot open database postgresql+psycopg://pp:***@127.0.0.1:" in result.output
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_db_status_and_upgrade_say_where_the_schema_stands(db_url: str) -> None:
    _run_sql(db_url, _old_schema(db_url))
    behind = runner.invoke(app, ["db", "status", "--db", db_url])
    assert behind.exit_code == 1 and "made before migrations" in behind.output
    upgraded = runner.invoke(app, ["db", "upgrade", "--db", db_url])
    assert upgraded.exit_code == 0
    assert f"upgraded from made before migrations to {migrate.head()}" in upgraded.output
    now = runner.invoke(app, ["db", "status", "--db", db_url])
    assert now.exit_code == 0 and "up to date" in now.output
