"""One service per database: the second one is told which process holds it, and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.service.database import ServiceLock, StorageError, sqlite_url
from tests.service.helpers import SITE_YAML

runner = CliRunner()

HOLDER = """
import sys
from panelpilot.service.database import ServiceLock
lock = ServiceLock.acquire(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
"""


def test_a_second_service_on_the_same_database_names_the_first_and_exits_2(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    db = sqlite_url(str(tmp_path / "pp.db"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db],
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
    assert ServiceLock.acquire("postgresql+psycopg://host/db") is None  # not a file
