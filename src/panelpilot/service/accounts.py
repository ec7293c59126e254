"""Users, sessions and API tokens: argon2 password hashes, random tokens stored as SHA-256.

Two roles: `owner` (sees everything, changes nothing that needs an electrician) and
`installer` (commissions power sharing; changes PCS limits after entering a license number,
which the session keeps until sign-out). There is no default password anywhere.

API tokens have a name and an expiry (90 days unless told, at most 365). A new password or
role, or removing the user, ends every session and revokes every token of that user.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from panelpilot.service import schema
from panelpilot.service.storage import Storage

Role = Literal["owner", "installer"]
ROLES: tuple[Role, ...] = ("owner", "installer")
SESSION_S = 12 * 3600.0
MIN_PASSWORD_CHARS = 8
DAY_S = 86_400.0
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365
TOKEN_NAME_CHARS = 64
MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds in every database
# A license number as the states print them ("EC-4711", "C-10 123456", "ME.12345"): 2 to 32
# letters, digits, spaces, dots, slashes and dashes, starting with a letter or digit, with at
# least one digit, so "a", " " or "x" cannot pass for one.
LICENSE_PATTERN_DEFAULT = r"(?=[^0-9]*[0-9])[A-Za-z0-9][A-Za-z0-9 ./-]{1,31}"


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


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as listed: never its secret."""

    id: int
    name: str
    user: str
    created_s: float
    expires_s: float

    def expired(self, now_s: float) -> bool:
        """Whether the token no longer works."""
        return self.expires_s <= now_s


def check_license_number(number: str, pattern: str = LICENSE_PATTERN_DEFAULT) -> str:
    """The license number, stripped, when it matches `pattern`; `AccountError` says why not."""
    stripped = number.strip()
    if not stripped:
        raise AccountError("enter your license number (it may not be blank)")
    if re.fullmatch(pattern, stripped) is None:
        raise AccountError(
            f"{stripped[:64]!r} is not a license number: 2 to 32 letters, digits, spaces, "
            "'.', '/' or '-', with at least one digit"
            if pattern == LICENSE_PATTERN_DEFAULT
            else f"{stripped[:64]!r} is not a license number (it must match {pattern})"
        )
    return stripped


def check_license_pattern(pattern: str) -> str:
    """A license pattern that compiles (the `--license-pattern` option)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise AccountError(
            f"license pattern {pattern!r} is not a regular expression: {exc}"
        ) from None
    return pattern


def token_days(days: int) -> int:
    """A token lifetime in days, 1 to `TOKEN_DAYS_MAX`."""
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise AccountError(f"a token lasts 1 to {TOKEN_DAYS_MAX} days, not {days}")
    return days


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
        """Add a user, or set an existing one's password and role (ending their sessions and
        revoking their tokens: whoever held them no longer gets in with them)."""
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
                _revoke_all(conn, name)
            else:
                conn.execute(
                    insert(t).values(name=name, role=checked, password_hash=digest, created_s=now_s)
                )
        return User(name, checked)

    def remove_user(self, name: str) -> None:
        """Remove a user with their sessions and tokens; the last owner stays."""
        t = schema.users
        with self.storage.engine.begin() as conn:
            row = conn.execute(select(t.c.role).where(t.c.name == name)).first()
            if row is None:
                raise AccountError(f"no user {name!r}")
            owners = conn.execute(
                select(func.count()).select_from(t).where(t.c.role == "owner")
            ).scalar_one()
            if row.role == "owner" and owners <= 1:
                raise AccountError(f"{name} is the only owner; add another owner first")
            conn.execute(delete(t).where(t.c.name == name))
            _revoke_all(conn, name)

    def users(self) -> list[tuple[User, float]]:
        """Every user with when they were added, by name."""
        t = schema.users
        with self.storage.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.role, t.c.created_s).order_by(t.c.name))
            return [(User(r.name, _role(r.role)), r.created_s) for r in rows]

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

    def add_token(self, user: User, name: str, now_s: float, days: int = TOKEN_DAYS_DEFAULT) -> str:
        """A new API token for a user, lasting `days`; returns the secret (shown once)."""
        label = name.strip()
        if not label or len(label) > TOKEN_NAME_CHARS:
            raise AccountError(f"a token's name has 1 to {TOKEN_NAME_CHARS} characters")
        lifetime_s = token_days(days) * DAY_S
        token = "pp_" + secrets.token_urlsafe(32)
        with self.storage.engine.begin() as conn:
            if (
                conn.execute(
                    select(schema.users.c.name).where(schema.users.c.name == user.name)
                ).first()
                is None
            ):
                raise AccountError(f"no user {user.name!r}")
            conn.execute(
                insert(schema.tokens).values(
                    name=label,
                    user=user.name,
                    token_hash=_sha256(token),
                    created_s=now_s,
                    expires_s=now_s + lifetime_s,
                )
            )
        return token

    def token_user(self, token: str, now_s: float) -> User | None:
        """The user an API token belongs to, while it has not expired or been revoked."""
        t, u = schema.tokens, schema.users
        query = (
            select(u.c.name, u.c.role, t.c.expires_s)
            .join(t, t.c.user == u.c.name)
            .where(t.c.token_hash == _sha256(token))
        )
        with self.storage.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.expires_s is None or row.expires_s <= now_s:
            return None
        return User(row.name, _role(row.role))

    def tokens(self, user: str | None = None) -> list[TokenRecord]:
        """The API tokens (of one user), newest first, expired ones included."""
        t = schema.tokens
        query = select(t).order_by(t.c.id.desc())
        if user is not None:
            query = query.where(t.c.user == user)
        with self.storage.engine.connect() as conn:
            return [
                TokenRecord(r.id, r.name, r.user, r.created_s, r.expires_s or r.created_s)
                for r in conn.execute(query)
            ]

    def revoke_token(self, token_id: int, user: str | None = None) -> TokenRecord:
        """Revoke one token (only one of `user`'s when given); returns what it was."""
        if not 0 < token_id <= MAX_ID:  # beyond an INTEGER column: PostgreSQL would refuse
            raise AccountError(f"no token {token_id}")
        t = schema.tokens
        query = select(t).where(t.c.id == token_id)
        if user is not None:
            query = query.where(t.c.user == user)
        with self.storage.engine.begin() as conn:
            row = conn.execute(query).first()
            if row is None:
                raise AccountError(f"no token {token_id}")
            conn.execute(delete(t).where(t.c.id == token_id))
        return TokenRecord(row.id, row.name, row.user, row.created_s, row.expires_s or 0.0)


def _revoke_all(conn: Connection, user: str) -> None:
    """End every session and revoke every token of a user (inside the caller's transaction)."""
    conn.execute(delete(schema.sessions).where(schema.sessions.c.user == user))
    conn.execute(delete(schema.tokens).where(schema.tokens.c.user == user))
