"""Storage as a follower, under real filesystem faults: an immutable file, a full disk.

The control loop and the chargers carry on, `storage_failed` is raised, telemetry waits in a
bounded buffer and is written once the fault clears, a settings change that cannot be stored
is refused and not applied, and a database that cannot be used at start is one line, exit 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.control.types import Command
from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import ManualClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.service import Service, build_service
from panelpilot.service.settings import Actor, NotStored
from panelpilot.service.storage import Storage
from tests.service.helpers import SITE_YAML, garage_site

INSTALLER = Actor("ivan", "installer", "EC-1")
runner = CliRunner()


def _service(db: Path) -> tuple[Service, World, ManualClock]:
    site = garage_site()
    clock = ManualClock()
    world = World.of(site, clock.monotonic_s)
    storage = Storage.open(sqlite_url(str(db)))
    return build_service(site, sim_driver_set(world), storage, clock), world, clock


def _cycles(service: Service, clock: ManualClock, n: int) -> None:
    async def run() -> None:
        for _ in range(n):
            clock.advance(1.0)
            await service.runtime.cycle()

    asyncio.run(run())


def _codes(service: Service) -> set[str]:
    last = service.runtime.last
    assert last is not None
    return {a.code for a in last.decision.alerts}


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file made immutable (`chattr +i`) for the block; skips where that is not allowed."""
    if not _chattr("+i", path):
        pytest.skip("chattr +i is not permitted here (needs root and a filesystem with it)")
    try:
        yield
    finally:
        _chattr("-i", path)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the test; skips where mounting is not permitted."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def fill(directory: Path) -> Path:
    """Fill the filesystem of `directory` to the last byte; returns the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size) > 0:
                    pass
    finally:
        os.close(fd)
    return filler


def test_an_immutable_database_raises_an_alert_and_the_loop_carries_on(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    service, world, clock = _service(db)
    world.chargers["wc1"].car_wants_a = 32.0
    _cycles(service, clock, 3)
    rows_before = len(service.storage.telemetry(0))
    with immutable(db):
        _cycles(service, clock, 5)
        assert "storage_failed" in _codes(service)
        # The charger is still driven: its limit given and its lease renewed every cycle.
        assert world.chargers["wc1"].limit_a == 32.0
        assert world.chargers["wc1"].lease_until_s > clock.monotonic_s()
        assert service.writer.health().buffered_rows >= 5
        with pytest.raises(NotStored, match="could not be saved"):
            service.settings.change_network(INSTALLER, Command("garage-net", enabled=False))
        # Refused means not applied: nothing queued, the network still enabled.
        assert service.runtime.pending == ()
        _cycles(service, clock, 1)
        assert service.runtime.controller.state.networks["garage-net"].enabled
    # The next write succeeds and empties the buffer; the cycle after it is clear.
    _cycles(service, clock, 2)
    assert "storage_failed" not in _codes(service)
    assert len(service.storage.telemetry(0)) == rows_before + 8
    assert service.storage.setting_history() == []
    raised = [e for e in service.storage.events(100) if e.code == "storage_failed"]
    assert raised and "database writes fail" in raised[-1].message


def test_a_full_disk_buffers_telemetry_and_refuses_settings_until_space_returns(
    small_fs: Path,
) -> None:
    service, world, clock = _service(small_fs / "pp.db")
    world.chargers["wc1"].car_wants_a = 32.0
    _cycles(service, clock, 2)
    acknowledged = service.settings.change_network(INSTALLER, Command("garage-net", enabled=False))
    filler = fill(small_fs)
    _cycles(service, clock, 20)
    assert "storage_failed" in _codes(service)
    assert world.chargers["wc1"].limit_a > 0  # still charging, at its fallback
    with pytest.raises(NotStored, match="full"):
        service.settings.change_network(INSTALLER, Command("garage-net", network_limit_a=60))
    assert service.runtime.pending == ()
    assert service.settings.network("garage-net").network_limit_a == 72.0
    filler.unlink()
    _cycles(service, clock, 2)
    assert "storage_failed" not in _codes(service)
    history = service.storage.setting_history()
    assert [v.summary for v in history] == [acknowledged]  # the acknowledged one is kept
    assert len(service.storage.telemetry(0)) == 24


def test_starting_on_a_full_disk_is_one_line_and_exit_2(small_fs: Path) -> None:
    site = small_fs.parent / "site.yaml"
    site.write_text(SITE_YAML)
    db = sqlite_url(str(small_fs / "pp.db"))
    added = runner.invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="long enough\n"
    )
    assert added.exit_code == 0, added.output
    fill(small_fs)
    result = runner.invoke(app, ["run", str(site), "--db", db, "--sim", "--port", "0"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "full" in lines[0], result.output
    assert "Traceback" not in result.output


def test_a_database_of_random_bytes_is_one_line_and_exit_2(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    db = tmp_path / "pp.db"
    db.write_bytes(os.urandom(64 * 1024))
    result = runner.invoke(app, ["run", str(site), "--db", sqlite_url(str(db)), "--port", "0"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0] and "not a database" in lines[0]


def test_a_damaged_page_inside_a_real_database_is_found_at_start(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    service, _world, clock = _service(db)
    _cycles(service, clock, 300)  # enough telemetry for several pages
    service.storage.close()
    size = db.stat().st_size
    with db.open("r+b") as f:  # scribble over the middle of the file, past the header
        f.seek(size // 2)
        f.write(os.urandom(8192))
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    result = runner.invoke(app, ["run", str(site), "--db", sqlite_url(str(db)), "--port", "0"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "Traceback" not in result.output


def test_the_database_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    Storage.open(sqlite_url(str(db))).add_event(0, "service", "hello")
    assert db.stat().st_mode & 0o777 == 0o600
    # No shared-memory index beside it (WAL's -shm is what died of SIGBUS).
    assert not (tmp_path / "pp.db-shm").exists()


SHM_WRITER = """
import sys
from panelpilot.service.database import sqlite_url
from panelpilot.service.storage import Storage
storage = Storage.open(sqlite_url(sys.argv[1]))
for n in range(50):
    storage.add_telemetry(float(n), {"pad": "x" * 2000})
print(len(storage.telemetry(0)))
"""


def test_an_immutable_shm_file_beside_the_database_is_no_sigbus(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    Storage.open(sqlite_url(str(db))).add_event(0, "service", "created")
    shm = tmp_path / "pp.db-shm"
    shm.write_bytes(b"\0" * 32768)  # what WAL would map into memory
    with immutable(shm):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [sys.executable, "-c", SHM_WRITER, str(db)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    assert done.returncode == 0, (done.returncode, done.stderr)  # -7 would be SIGBUS
    assert done.stdout.strip() == "50"


def test_a_database_left_in_wal_mode_is_moved_to_a_rollback_journal(tmp_path: Path) -> None:
    db = tmp_path / "pp.db"
    legacy = sqlite3.connect(db)
    legacy.execute("PRAGMA journal_mode=WAL")
    legacy.execute("create table t (x)")
    legacy.commit()
    legacy.close()
    storage = Storage.open(sqlite_url(str(db)))
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "delete"
    storage.add_event(0, "service", "after")
    storage.close()
    assert not (tmp_path / "pp.db-shm").exists() and not (tmp_path / "pp.db-wal").exists()


def test_the_installer_sees_why_a_change_was_refused_when_the_database_is_immutable(
    tmp_path: Path,
) -> None:
    from tests.web.helpers import INSTALLER_PASSWORD, client_for, harness, sign_in

    h = harness(tmp_path)
    client = client_for(h)
    headers = {"X-CSRF-Token": sign_in(client, "ivan", INSTALLER_PASSWORD)}
    with immutable(tmp_path / "web.db"):
        refused = client.patch("/api/networks/garage-net", json={"enabled": False}, headers=headers)
        h.cycles(2)
        assert "storage_failed" in _codes(h.service)
    assert refused.status_code == 422
    assert "could not be saved" in refused.json()["detail"]
    assert "nothing changed" in refused.json()["detail"]
    h.cycles(1)
    assert h.service.runtime.controller.state.networks["garage-net"].enabled
