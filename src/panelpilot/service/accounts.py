"""Users, sessions and API tokens: argon2 password hashes, random tokens stored as SHA-256.

Two roles: `owner` (sees everything, changes nothing that needs an electrician) and
`installer` (commissions power sharing; changes PCS limits after entering a license number,
which the session keeps until sign-out). There is no default password anywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update

from panelpilot.service import schema
from panelpilot.service.storage import Storage

Role = Literal["owner", "installer"]
ROLES: tuple[Role, ...] = ("owner", "installer")
SESSION_S = 12 * 3600.0
MIN_PASSWORD_CHARS = 8


class AccountError(Exception):
    """A user could not be added or signed in; says why."""


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in person (or the owner of an API token)."""

    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Session:
    """A browser session: who, the CSRF token of its forms, the license number if entered."""

    user: User
    csrf: str
    license_number: str | None


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role(value: str) -> Role:
    if value == "owner":
        return "owner"
    if value == "installer":
        return "installer"
    raise AccountError(f"unknown role {value!r}; roles: owner, installer")


class Accounts:
    """Users, sessions and tokens over the service's storage."""

    def __init__(self, storage: Storage, hasher: PasswordHasher | None = None) -> None:
        self.storage = storage
        self.hasher = hasher or PasswordHasher()

    def add_user(self, name: str, role: str, password: str, now_s: float) -> User:
        """Add a user (or replace the password and role of an existing one)."""
        checked = _role(role)
        if not name or len(name) > 64:
            raise AccountError("a user name has 1 to 64 characters")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
        digest = self.hasher.hash(password)
        t = schema.users
        with self.storage.engine.begin() as conn:
            exists = conn.execute(select(t.c.name).where(t.c.name == name)).first()
            if exists:
                conn.execute(
                    update(t).where(t.c.name == name).values(role=checked, password_hash=digest)
                )
            else:
                conn.execute(
                    insert(t).values(name=name, role=checked, password_hash=digest, created_s=now_s)
                )
        return User(name, checked)

    def count(self, role: str | None = None) -> int:
        """How many users (of a role) there are."""
        t = schema.users
        query = select(func.count()).select_from(t)
        if role is not None:
            query = query.where(t.c.role == role)
        with self.storage.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, when the password is theirs."""
        t = schema.users
        with self.storage.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.name == name)).first()
        if row is None:
            # Spend the same time as a real check so names cannot be probed by timing.
            self.hasher.hash(password)
            return None
        try:
            self.hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(row.name, _role(row.role))

    def start_session(self, user: User, now_s: float) -> str:
        """A new session; returns the secret cookie value."""
        token = secrets.token_urlsafe(32)
        with self.storage.engine.begin() as conn:
            conn.execute(delete(schema.sessions).where(schema.sessions.c.expires_s < now_s))
            conn.execute(
                insert(schema.sessions).values(
                    token_hash=_sha256(token),
                    user=user.name,
                    csrf=secrets.token_urlsafe(24),
                    license_number=None,
                    created_s=now_s,
                    expires_s=now_s + SESSION_S,
                )
            )
        return token

    def session(self, token: str, now_s: float) -> Session | None:
        """The live session of a cookie value."""
        s, u = schema.sessions, schema.users
        query = (
            select(s.c.csrf, s.c.license_number, s.c.expires_s, u.c.name, u.c.role)
            .join(u, u.c.name == s.c.user)
            .where(s.c.token_hash == _sha256(token))
        )
        with self.storage.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.expires_s < now_s:
            return None
        return Session(User(row.name, _role(row.role)), row.csrf, row.license_number)

    def set_license(self, token: str, license_number: str) -> None:
        """Remember the qualified person's license number until sign-out."""
        s = schema.sessions
        with self.storage.engine.begin() as conn:
            conn.execute(
                update(s)
                .where(s.c.token_hash == _sha256(token))
                .values(license_number=license_number)
            )

    def end_session(self, token: str) -> None:
        """Sign out: the session and its license number are gone."""
        with self.storage.engine.begin() as conn:
            conn.execute(
                delete(schema.sessions).where(schema.sessions.c.token_hash == _sha256(token))
            )

    def add_token(self, user: User, name: str, now_s: float) -> str:
        """A new API token for a user; returns the secret (shown once)."""
        token = "pp_" + secrets.token_urlsafe(32)
        with self.storage.engine.begin() as conn:
            conn.execute(
                insert(schema.tokens).values(
                    name=name, user=user.name, token_hash=_sha256(token), created_s=now_s
                )
            )
        return token

    def token_user(self, token: str) -> User | None:
        """The user an API token belongs to."""
        t, u = schema.tokens, schema.users
        query = (
            select(u.c.name, u.c.role)
            .join(t, t.c.user == u.c.name)
            .where(t.c.token_hash == _sha256(token))
        )
        with self.storage.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else User(row.name, _role(row.role))
