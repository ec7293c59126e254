"""One service per database: the second one is told which process holds it, and exits 2; a
SQLite file by `flock`, a PostgreSQL database by a session-level advisory lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.service.database import ServiceLock, StorageError, sqlite_url
from panelpilot.service.storage import Storage
from tests.postgres import PostgresServer, free_port
from tests.service.helpers import SITE_YAML

runner = CliRunner()

HOLDER = """
import sys
from panelpilot.service.database import ServiceLock
lock = ServiceLock.acquire(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
if sys.argv[2] == "release":  # else the lock goes with the process
    lock.release()
"""


def test_a_second_service_on_the_same_database_names_the_first_and_exits_2(
    tmp_path: Path, db_url: str
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    db = db_url
    # PostgreSQL frees a session's lock when its backend sees the connection end, a moment
    # after the process does: the holder there releases it before it ends, to wait on nothing.
    ends = "release" if db.startswith("postgresql") else "exit"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db, ends],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = runner.invoke(app, ["run", str(site), "--db", db, "--sim", "--port", "0"])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1
        assert f"in use by another panelpilot service (pid {holder.pid})" in lines[0]
    finally:
        holder.stdin.close()
        holder.wait()
    # Once the first has gone (however it ended), the database is free again.
    lock = ServiceLock.acquire(db)
    assert lock is not None
    lock.release()


def test_the_lock_is_per_database_and_released_with_the_process(tmp_path: Path) -> None:
    first = ServiceLock.acquire(sqlite_url(str(tmp_path / "a.db")))
    other = ServiceLock.acquire(sqlite_url(str(tmp_path / "b.db")))
    assert first is not None and other is not None
    with pytest.raises(StorageError, match=f"pid {os.getpid()}"):
        ServiceLock.acquire(sqlite_url(str(tmp_path / "a.db")))
    first.release()
    again = ServiceLock.acquire(sqlite_url(str(tmp_path / "a.db")))
    assert again is not None
    again.release()
    other.release()
    assert (tmp_path / "a.db.lock").stat().st_mode & 0o777 == 0o600
    assert ServiceLock.acquire("sqlite://") is None  # in memory: nothing to share


def test_two_services_on_one_postgresql_database_are_kept_apart(
    postgres: PostgresServer,
) -> None:
    with postgres.database() as a, postgres.database() as b:
        first = ServiceLock.acquire(a)
        other = ServiceLock.acquire(b)  # another database of the same server
        assert first is not None and other is not None
        with pytest.raises(
            StorageError, match=f"in use by another panelpilot service \\(pid {os.getpid()}\\)"
        ):
            ServiceLock.acquire(a)
        # The holder itself still migrates and opens its database (another lock key).
        Storage.open(a, check=True).close()
        first.release()
        again = ServiceLock.acquire(a)
        assert again is not None
        again.release()
        other.release()


def test_an_unreachable_postgresql_server_is_one_line_without_the_password() -> None:
    url = f"postgresql+psycopg://pp:s3cret-pw@127.0.0.1:{free_port()}/panelpilot"
    with pytest.raises(StorageError) as refused:
        ServiceLock.acquire(url)
    message = str(refused.value)
    assert message.startswith("cannot lock database postgresql+psycopg://pp:***@127.0.0.1:")
    assert "s3cret-pw" not in message and "\n" not in message
