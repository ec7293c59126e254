"""A real PostgreSQL server for the tests: Debian's, in a directory of its own, on a free port.

`initdb` makes a cluster in a fresh temporary directory (owned by the `postgres` user when the
tests run as root: PostgreSQL refuses to run as root), `pg_ctl start -w` starts it on a free
port of 127.0.0.1 with its unix socket in that directory and returns once it accepts
connections, and `pg_ctl stop` ends it. Durability is off (`fsync=off`): these databases are
thrown away, and the tests of what survives a crash are SQLite's and the server's own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "panelpilot"
START_TIMEOUT_S = 60
INSTALL = "install PostgreSQL first: apt-get install -y postgresql"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server programs on this machine."""


def bindir() -> Path:
    """Where initdb and pg_ctl are: on the PATH, else Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found is not None and shutil.which("initdb") is not None:
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if not versions:
        raise PostgresMissing(f"no pg_ctl on the PATH or in /usr/lib/postgresql: {INSTALL}")
    return Path(versions[-1]).parent


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_owner(user: str | None, args: list[str]) -> list[str]:
    return args if user is None else ["runuser", "-u", user, "--", *args]


@dataclass
class PostgresServer:
    """One running cluster; `database()` makes a fresh database on it."""

    root: Path
    port: int
    owner: str | None  # the account the server runs as, when not this process's
    bin: Path
    _made: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """The SQLAlchemy URL of a database on this server."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = _as_owner(self.owner, [str(self.bin / args[0]), *args[1:]])
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)}: {done.stderr or done.stdout}{tail}")

    def start(self) -> None:
        """initdb, then start and wait (pg_ctl -w) until the server accepts connections."""
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--no-sync",
            "--encoding=UTF8", "--locale=C",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-t", str(START_TIMEOUT_S),
            "-l", str(self.root / "server.log"), "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server (fast: connections are ended) and wait until it has."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """A connection to the maintenance database, outside transactions (for CREATE DATABASE)."""
        url = self.url(driver="postgresql")
        return psycopg.connect(url, autocommit=True)

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new, empty database for the life of the block (dropped after, connections and
        all); yields its SQLAlchemy URL."""
        self._made += 1
        name = f"test_{os.getpid()}_{self._made}"
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield self.url(name)
        finally:
            with self.admin() as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the life of the block, its directory removed after."""
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="panelpilot-pg-"))
    try:
        if owner is not None:
            try:
                account = pwd.getpwnam(owner)
            except KeyError:
                raise PostgresMissing(
                    f"no {owner!r} user to run the server as: {INSTALL}"
                ) from None
            os.chown(root, account.pw_uid, account.pw_gid)
        server = PostgresServer(root, free_port(), owner, bindir())
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
