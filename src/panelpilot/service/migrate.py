"""The database's schema brought to this release's (Alembic), at every start.

`upgrade` runs the revisions in `service/migrations/versions/` that a database lacks, in one
transaction (PostgreSQL migrates its DDL transactionally, and holds an advisory lock so two
processes starting together migrate once). A database made before migrations existed has the
tables and no `alembic_version`: the first revision adopts it as it is. A database at a
revision this release does not know was upgraded by a newer panelpilot: it is refused, never
touched. `status` says where a database is without changing it (`panelpilot db status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from panelpilot.service.database import StorageError

MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock's key: any constant of ours ("panelpilot" in ASCII, folded to 63 bits).
PG_LOCK_KEY = 0x70616E656C70696C
SERVICE_TABLES = (
    "users",
    "sessions",
    "tokens",
    "setting_versions",
    "events",
    "telemetry",
    "ocpp_charge_points",
)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands: its revision (None: none stored) and this release's."""

    current: str | None
    head: str
    known: bool  # the current revision is one of this release's (or none is stored)
    legacy: bool  # made before migrations: the service's tables, no revision stored
    empty: bool  # none of the service's tables yet

    @property
    def up_to_date(self) -> bool:
        """True when no revision is waiting."""
        return self.current == self.head


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def script() -> ScriptDirectory:
    """This release's revisions."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head() -> str:
    """The newest revision this release knows."""
    newest = script().get_current_head()
    assert newest is not None, "no migrations shipped"
    return newest


def _status(conn: Connection) -> SchemaStatus:
    current = MigrationContext.configure(conn).get_current_revision()
    known = current is None or current in {s.revision for s in script().walk_revisions()}
    tables = set(inspect(conn).get_table_names())
    ours = tables & set(SERVICE_TABLES)
    return SchemaStatus(current, head(), known, current is None and bool(ours), not ours)


def status(engine: Engine) -> SchemaStatus:
    """Where the database's schema stands, changing nothing."""
    with engine.connect() as conn:
        return _status(conn)


def refuse_newer(found: SchemaStatus, name: str) -> None:
    """A `StorageError` when the database was migrated by a release newer than this one."""
    if not found.known:
        raise StorageError(
            f"database {name} has schema revision {found.current}, made by a newer "
            f"panelpilot (this one knows up to {found.head}): run that release or a newer "
            "one, or restore a backup made before it upgraded the database"
        )


def upgrade(engine: Engine, name: str) -> SchemaStatus:
    """Bring the database to this release's schema; returns where it stood before.

    Raises `StorageError` (touching nothing) when a newer release migrated it.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        before = _status(conn)
        refuse_newer(before, name)
        if not before.up_to_date:
            command.upgrade(_config(conn), "head")
    return before
