"""What the service stores: settings as versions, events and alerts, telemetry.

Every method is one transaction: a settings change and its event are committed together,
before the caller acknowledges it. How the database is opened (SQLite with a rollback journal
and `synchronous=FULL`, a private file, damage found at start) and the lock that keeps a second
service off it are `service/database.py`'s; users and sessions are `service/accounts.py`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Engine, Integer, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from panelpilot.service import migrate, schema
from panelpilot.service.database import StorageError, display_url, open_engine, reason

DAY_S = 86_400.0
DOWNSAMPLE_STEP_S = 60


@dataclass(frozen=True, slots=True)
class SettingVersion:
    """One change of one setting: who, when, with which license number, from what to what."""

    id: int
    key: str
    old: Any
    new: Any
    who: str
    license_number: str | None
    at_s: float
    summary: str


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One line of the event log."""

    id: int
    at_s: float
    kind: str
    severity: str
    code: str | None
    device: str | None
    who: str | None
    message: str


class EventRow(NamedTuple):
    """One event waiting to be written."""

    at_s: float
    kind: str
    severity: str
    code: str | None
    device: str | None
    who: str | None
    message: str


class _floor(FunctionElement[int]):
    """The greatest integer not above a number, in every database: `CAST(x AS INTEGER)`
    rounds on PostgreSQL and truncates on SQLite (whose `floor()` is optional)."""

    type = Integer()
    inherit_cache = True


@compiles(_floor)
def _floor_sql(element: _floor, compiler: SQLCompiler, **kw: Any) -> str:
    return f"FLOOR({compiler.process(element.clauses, **kw)})"


@compiles(_floor, "sqlite")
def _floor_sqlite(element: _floor, compiler: SQLCompiler, **kw: Any) -> str:
    x = compiler.process(element.clauses, **kw)
    return f"(CAST({x} AS INTEGER) - ({x} < CAST({x} AS INTEGER)))"


class Storage:
    """The service's database."""

    def __init__(self, engine: Engine, schema_before: migrate.SchemaStatus | None = None) -> None:
        self.engine = engine
        self.schema_before = schema_before  # where `open` found the schema (None: not told)

    @classmethod
    def open(cls, url: str, *, check: bool = False) -> Storage:
        """Open the database at `url` (`database.open_engine`) and bring its schema to this
        release's (`migrate.upgrade`: its tables made on first use).

        With `check`, a SQLite file is also read through first. Raises `StorageError`: the
        database cannot be reached or opened, or a newer panelpilot migrated it.
        """
        engine = open_engine(url, check=check)
        name = display_url(url)
        try:
            before = migrate.upgrade(engine, name)
        except (SQLAlchemyError, OSError) as exc:
            engine.dispose()
            raise StorageError(f"cannot open database {name}: {reason(exc)}") from None
        except StorageError:
            engine.dispose()
            raise
        return cls(engine, before)

    def check_writable(self, at_s: float) -> None:
        """Prove a write commits now (the start-up event); `StorageError` says why not."""
        try:
            self.add_event(at_s, "service", "service starting")
        except SQLAlchemyError as exc:
            name = display_url(self.engine.url.render_as_string(hide_password=True))
            raise StorageError(f"cannot write to database {name}: {reason(exc)}") from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # settings ---------------------------------------------------------------------------

    def record_setting(
        self,
        key: str,
        old: Any,
        new: Any,
        *,
        who: str,
        license_number: str | None,
        at_s: float,
        summary: str,
    ) -> int:
        """Commit one settings version and its event; returns the version id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(schema.setting_versions).values(
                    key=key,
                    old_json=None if old is None else json.dumps(old),
                    new_json=json.dumps(new),
                    who=who,
                    license_number=license_number,
                    at_s=at_s,
                    summary=summary,
                )
            )
            self._event(conn, at_s, "setting", "info", None, None, who, summary)
            pk = result.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def latest_settings(self) -> dict[str, Any]:
        """The newest value of every setting ever changed."""
        newest = (
            select(schema.setting_versions.c.key, func.max(schema.setting_versions.c.id))
            .group_by(schema.setting_versions.c.key)
            .subquery()
        )
        query = select(schema.setting_versions.c.key, schema.setting_versions.c.new_json).where(
            schema.setting_versions.c.id.in_(select(newest.c[1]))
        )
        with self.engine.connect() as conn:
            return {row.key: json.loads(row.new_json) for row in conn.execute(query)}

    def setting_history(self, key: str | None = None, limit: int = 100) -> list[SettingVersion]:
        """Settings versions, newest first."""
        t = schema.setting_versions
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if key is not None:
            query = query.where(t.c.key == key)
        with self.engine.connect() as conn:
            return [
                SettingVersion(
                    r.id,
                    r.key,
                    None if r.old_json is None else json.loads(r.old_json),
                    json.loads(r.new_json),
                    r.who,
                    r.license_number,
                    r.at_s,
                    r.summary,
                )
                for r in conn.execute(query)
            ]

    # events -----------------------------------------------------------------------------

    @staticmethod
    def _event(
        conn: Connection,
        at_s: float,
        kind: str,
        severity: str,
        code: str | None,
        device: str | None,
        who: str | None,
        message: str,
    ) -> int:
        result = conn.execute(
            insert(schema.events).values(
                at_s=at_s,
                kind=kind,
                severity=severity,
                code=code,
                device=device,
                who=who,
                message=message,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def add_event(
        self,
        at_s: float,
        kind: str,
        message: str,
        *,
        severity: str = "info",
        code: str | None = None,
        device: str | None = None,
        who: str | None = None,
    ) -> int:
        """Commit one event; returns its id."""
        with self.engine.begin() as conn:
            return self._event(conn, at_s, kind, severity, code, device, who, message)

    def events(
        self,
        limit: int = 100,
        before_id: int | None = None,
        kinds: Sequence[str] | None = None,
        with_device: bool = False,
    ) -> list[EventRecord]:
        """Events, newest first (page backwards with `before_id`), only of `kinds` when given
        and only those about a device with `with_device`."""
        t = schema.events
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        if kinds is not None:
            query = query.where(t.c.kind.in_(kinds))
        if with_device:
            query = query.where(t.c.device.is_not(None))
        return self._records(query)

    def alert_edge(
        self, kind: str, code: str | None, device: str | None, event_id: int
    ) -> EventRecord | None:
        """The other end of an alert: for `kind="alert"` its start before `event_id` (the
        newest), for `kind="alert_cleared"` its clear after `event_id` (the oldest)."""
        t = schema.events
        same = (t.c.kind == kind) & (t.c.code == code)
        same &= t.c.device.is_(None) if device is None else t.c.device == device
        if kind == "alert":
            query = select(t).where(same, t.c.id < event_id).order_by(t.c.id.desc()).limit(1)
        else:
            query = select(t).where(same, t.c.id > event_id).order_by(t.c.id).limit(1)
        found = self._records(query)
        return found[0] if found else None

    def _records(self, query: Any) -> list[EventRecord]:
        with self.engine.connect() as conn:
            return [
                EventRecord(r.id, r.at_s, r.kind, r.severity, r.code, r.device, r.who, r.message)
                for r in conn.execute(query)
            ]

    # telemetry --------------------------------------------------------------------------

    def add_telemetry(self, at_s: float, data: Mapping[str, Any]) -> None:
        """Store one cycle's measurements."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(schema.telemetry).values(at_s=at_s, step_s=0, data_json=json.dumps(data))
            )

    def write_rows(
        self, events: Sequence[EventRow], telemetry: Sequence[tuple[float, Mapping[str, Any]]]
    ) -> None:
        """Commit buffered events and telemetry rows in one transaction (the writer's)."""
        with self.engine.begin() as conn:
            if events:
                conn.execute(insert(schema.events), [e._asdict() for e in events])
            if telemetry:
                conn.execute(
                    insert(schema.telemetry),
                    [
                        {"at_s": at_s, "step_s": 0, "data_json": json.dumps(data)}
                        for at_s, data in telemetry
                    ],
                )

    def telemetry(self, since_s: float, limit: int = 10_000) -> list[tuple[float, int, Any]]:
        """Telemetry rows since a time, oldest first: (at_s, step_s, data)."""
        t = schema.telemetry
        query = select(t).where(t.c.at_s >= since_s).order_by(t.c.at_s, t.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [(r.at_s, r.step_s, json.loads(r.data_json)) for r in conn.execute(query)]

    def downsample(self, now_s: float, keep_s: float = DAY_S) -> int:
        """Replace per-cycle rows older than `keep_s` by one row a minute (the last of each).

        Returns how many rows were removed.
        """
        t = schema.telemetry
        cutoff = now_s - keep_s
        bucket = _floor(t.c.at_s / DOWNSAMPLE_STEP_S)
        keep = (
            select(func.max(t.c.id))
            .where(t.c.step_s == 0, t.c.at_s < cutoff)
            .group_by(bucket)
            .scalar_subquery()
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.step_s == 0, t.c.at_s < cutoff, t.c.id.in_(keep))
                .values(step_s=DOWNSAMPLE_STEP_S)
            )
            result = conn.execute(delete(t).where(t.c.step_s == 0, t.c.at_s < cutoff))
            return int(result.rowcount)
