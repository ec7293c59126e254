"""Charge point passwords (OCPP security profile 1), stored as Argon2id hashes in the service's
database (SQLite or PostgreSQL, through SQLAlchemy).

The table is declared here, beside the only code that reads it, and is the service's: it is
created by the service's migrations (`service/migrations/`, revision 0002) and listed in
`service/schema.py`. The store never creates or alters it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from panelpilot.drivers.base import DriverError

# OCPP 1.6 security whitepaper / 2.0.1 A00.FR.302: an identity is at most 48 characters and
# travels in a URL path; the password is 16..40 characters (we allow 8..64 to be lenient).
CHARGE_POINT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,48}$")
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 64


def default_hasher() -> PasswordHasher:
    """Argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1).

    Charge point passwords are long random strings, and every handshake pays one
    verification, so this is chosen over argon2-cffi's heavier default (64 MiB, t = 3):
    about 80 ms on a 2-core machine, and a flood of handshakes cannot exhaust memory.
    """
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class CredentialError(DriverError, ValueError):
    """A charge point id or password that cannot be stored: names the charge point and why."""


metadata = MetaData()

charge_points = Table(
    "ocpp_charge_points",
    metadata,
    Column("charge_point_id", String(48), primary_key=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", String(32), nullable=False),  # ISO 8601, UTC, seconds
)


@dataclass(frozen=True, slots=True)
class ChargePointRecord:
    """A registered charge point, without its secret."""

    charge_point_id: str
    created_at: str


def check_charge_point_id(charge_point_id: str) -> str:
    """Return the id if it is a valid identity, else raise CredentialError."""
    if not CHARGE_POINT_ID.fullmatch(charge_point_id):
        raise CredentialError(
            f"charge point id {charge_point_id!r}", "use 1..48 of A-Z a-z 0-9 _ . : -"
        )
    return charge_point_id


def _display(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the database URL given"
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database  # the file
    try:
        return parsed.render_as_string(hide_password=True)
    except ArgumentError:
        return "the database URL given"


def _open(url: str) -> Engine:
    """The engine of the service's database at `url`, its charge point table checked."""
    shown = _display(url)
    parsed = make_url(url)  # ArgumentError: not a URL (the caller's to name)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():  # never create a file others could read
            raise CredentialError(f"database {shown}", "no such file")
    # pool_pre_ping: a connection a restarted PostgreSQL closed is replaced, not failed.
    engine = create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            present = inspect(conn).has_table(charge_points.name)
    except SQLAlchemyError:
        engine.dispose()
        raise
    if not present:
        engine.dispose()
        raise CredentialError(
            f"database {shown}",
            f"no {charge_points.name} table: run `panelpilot db upgrade --db URL` first",
        )
    return engine


class CredentialStore:
    """Registered charge points and their hashed passwords, in the service's database."""

    def __init__(self, db_url: str, hasher: PasswordHasher | None = None) -> None:
        """Open the database at `db_url` (a SQLAlchemy URL whose schema the service's
        migrations made); `hasher` sets the Argon2 cost of new hashes.

        Raises `CredentialError` when the database or its table is missing, SQLAlchemy's
        errors when it cannot be read.
        """
        self._engine = _open(db_url)
        self._hasher = hasher or default_hasher()
        # Verifying an unknown id costs the same as a known one (no id oracle by timing).
        self._dummy_hash = self._hasher.hash("panelpilot-unknown-charge-point")

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def add(self, charge_point_id: str, password: str, *, replace: bool = False) -> None:
        """Register a charge point; with `replace`, set a new password for an existing one."""
        check_charge_point_id(charge_point_id)
        if not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
            raise CredentialError(
                charge_point_id,
                f"password: {len(password)} characters; use "
                f"{PASSWORD_MIN_CHARS}..{PASSWORD_MAX_CHARS}",
            )
        password_hash = self._hasher.hash(password)
        try:
            self._write(charge_point_id, password_hash, replace=replace)
        except IntegrityError:  # another process registered it between our read and write
            raise CredentialError(charge_point_id, "already registered") from None

    def _write(self, charge_point_id: str, password_hash: str, *, replace: bool) -> None:
        table = charge_points
        with self._engine.begin() as conn:
            known = conn.execute(
                select(table.c.charge_point_id)
                .where(table.c.charge_point_id == charge_point_id)
                .with_for_update()
            ).first()
            if known is not None and not replace:
                raise CredentialError(
                    charge_point_id, "already registered (use --replace to set a new password)"
                )
            if known is None:
                created = datetime.now(UTC).isoformat(timespec="seconds")
                conn.execute(
                    insert(table).values(
                        charge_point_id=charge_point_id,
                        password_hash=password_hash,
                        created_at=created,
                    )
                )
            else:
                conn.execute(
                    update(table)
                    .where(table.c.charge_point_id == charge_point_id)
                    .values(password_hash=password_hash)
                )

    def remove(self, charge_point_id: str) -> bool:
        """Forget a charge point; False when it was not registered."""
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(charge_points).where(charge_points.c.charge_point_id == charge_point_id)
            )
            return bool(result.rowcount)

    def list(self) -> list[ChargePointRecord]:
        """Every registered charge point, by id."""
        table = charge_points
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(table.c.charge_point_id, table.c.created_at).order_by(
                    table.c.charge_point_id
                )
            )
            return [ChargePointRecord(r.charge_point_id, r.created_at) for r in rows]

    def password_hash(self, charge_point_id: str) -> str | None:
        """The stored hash of a charge point, None when it is unknown."""
        table = charge_points
        with self._engine.connect() as conn:
            found: str | None = conn.execute(
                select(table.c.password_hash).where(table.c.charge_point_id == charge_point_id)
            ).scalar_one_or_none()
            return found

    def verify_hash(self, password_hash: str | None, password: str) -> bool:
        """Check a password against a stored hash (None = unknown id, always False).

        Costs one Argon2 verification either way; safe to run in a worker thread.
        """
        try:
            ok = self._hasher.verify(password_hash or self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def check(self, charge_point_id: str, password: str) -> tuple[str | None, bool]:
        """The stored hash of a charge point and whether the password verifies against it.

        One database read and one Argon2 verification; meant for a worker thread.
        """
        password_hash = self.password_hash(charge_point_id)
        return password_hash, self.verify_hash(password_hash, password)

    def verify(self, charge_point_id: str, password: str) -> bool:
        """True when the id is registered and the password is its password."""
        return self.verify_hash(self.password_hash(charge_point_id), password)
