"""Charge point passwords (OCPP security profile 1), stored as Argon2id hashes in SQLite."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import String, create_engine, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

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


class _Base(DeclarativeBase):
    pass


class _ChargePointRow(_Base):
    __tablename__ = "ocpp_charge_points"

    charge_point_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))


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


class CredentialStore:
    """Registered charge points and their hashed passwords in one SQLite file."""

    def __init__(self, db_path: Path | str, hasher: PasswordHasher | None = None) -> None:
        """Open (creating if needed) the database; `hasher` sets the Argon2 cost of new hashes.
        A new file is readable by its owner only: it holds password hashes."""
        path = Path(db_path)
        if str(db_path) != ":memory:" and not path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        self._engine = create_engine(f"sqlite:///{db_path}")
        _Base.metadata.create_all(self._engine)
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
        with Session(self._engine) as session, session.begin():
            row = session.get(_ChargePointRow, charge_point_id)
            if row is not None and not replace:
                raise CredentialError(
                    charge_point_id, "already registered (use --replace to set a new password)"
                )
            if row is None:
                created = datetime.now(UTC).isoformat(timespec="seconds")
                session.add(
                    _ChargePointRow(
                        charge_point_id=charge_point_id,
                        password_hash=password_hash,
                        created_at=created,
                    )
                )
            else:
                row.password_hash = password_hash

    def remove(self, charge_point_id: str) -> bool:
        """Forget a charge point; False when it was not registered."""
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                delete(_ChargePointRow).where(_ChargePointRow.charge_point_id == charge_point_id)
            )
            return bool(getattr(result, "rowcount", 0))

    def list(self) -> list[ChargePointRecord]:
        """Every registered charge point, by id."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_ChargePointRow).order_by(_ChargePointRow.charge_point_id)
            )
            return [ChargePointRecord(r.charge_point_id, r.created_at) for r in rows]

    def password_hash(self, charge_point_id: str) -> str | None:
        """The stored hash of a charge point, None when it is unknown."""
        with Session(self._engine) as session:
            row = session.get(_ChargePointRow, charge_point_id)
            return None if row is None else row.password_hash

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
