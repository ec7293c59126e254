"""`panelpilot run` as a real subprocess, its devices simulated twins over loopback HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from panelpilot.drivers.sim import World
from panelpilot.drivers.sim.twin import APPLIED, TwinServer
from panelpilot.service.database import sqlite_url
from panelpilot.service.storage import Storage
from panelpilot.site import load_site_text
from tests.service.helpers import SITE_YAML

CHARGERS = ("wc1", "wc2", "wc3")
DEADLINE_S = 60.0
E2E_SITE = SITE_YAML + "control:\n  period_s: 0.5\n  lease_s: 3\n  clock_skew_s: 0.5\n"


def wait_until(
    condition: Callable[[], bool], what: str, proc: subprocess.Popen[str] | None
) -> None:
    """Poll a condition until it holds; fail (naming it) at the deadline or if the service died."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if proc is not None and proc.poll() is not None and proc.returncode != 0:
            raise AssertionError(f"service exited with {proc.returncode} while waiting: {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {what}")
        time.sleep(0.05)  # polling interval, not synchronisation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def twins() -> Iterator[TwinServer]:
    site = load_site_text(E2E_SITE, "e2e.yaml")
    server = TwinServer(World.of(site, time.monotonic))
    server.start()
    yield server
    server.stop()


def _panelpilot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panelpilot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _start(tmp_path: Path, twins: TwinServer, db: str) -> subprocess.Popen[str]:
    site_file = tmp_path / "site.yaml"
    site_file.write_text(E2E_SITE)
    args = ["run", str(site_file), "--db", db, "--port", str(free_port()), "--twins", twins.url]
    return subprocess.Popen(
        [sys.executable, "-m", "panelpilot", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _limits(twins: TwinServer) -> dict[str, float]:
    with twins.lock:
        return {cid: twins.world.chargers[cid].limit_a for cid in CHARGERS}


def _at_fallback(twins: TwinServer) -> bool:
    with twins.lock:
        twins.world.tick()  # each charger's own lease timer
        return all(t.limit_a == t.fallback_a for t in twins.world.chargers.values())


def test_run_refuses_to_start_without_an_owner(tmp_path: Path, twins: TwinServer) -> None:
    site_file = tmp_path / "site.yaml"
    site_file.write_text(E2E_SITE)
    db = sqlite_url(str(tmp_path / "pp.db"))
    # Port 0: the check that the web port is free must not depend on 8080 being free.
    result = _panelpilot(
        "run", str(site_file), "--db", db, "--port", "0", "--twins", twins.url, stdin=""
    )
    assert result.returncode == 2
    assert "no owner account yet" in result.stderr


def test_rising_load_lowers_chargers_and_a_killed_service_leaves_fallbacks(
    tmp_path: Path, twins: TwinServer
) -> None:
    db = sqlite_url(str(tmp_path / "pp.db"))
    added = _panelpilot("users", "add", "olive", "--role", "owner", "--password-stdin",
                        "--db", db, stdin="owner-password-1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr

    with twins.lock:
        for cid in CHARGERS:
            twins.world.chargers[cid].car_wants_a = 32.0
    proc = _start(tmp_path, twins, db)
    try:
        wait_until(lambda: _limits(twins) == dict.fromkeys(CHARGERS, 24.0), "24 A each", proc)

        with twins.lock:
            twins.world.loads_a["garage"] = 30.0  # the dryer and the oven come on
            seen = {cid: len(twins.app[APPLIED][cid]) for cid in CHARGERS}
        wait_until(
            lambda: all(len(twins.applied(c)) >= seen[c] + 2 for c in CHARGERS),
            "two more cycles",
            proc,
        )
        # The second limit each charger was given after the load rose.
        second = sum(twins.applied(cid)[seen[cid] + 1] for cid in CHARGERS)
        assert second + 30.0 <= 80.0, f"chargers still at {second} A two cycles later"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE_S) == 0
        assert _at_fallback(twins)
        assert _limits(twins) == dict.fromkeys(CHARGERS, 24.0)  # 72 A / 3 chargers
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # kill -9: nothing is told; every charger's lease runs out and it drops to its fallback.
    with twins.lock:
        twins.world.loads_a["garage"] = 0.0
        for cid in CHARGERS:
            twins.world.chargers[cid].car_wants_a = 32.0 if cid == "wc1" else 0.0
    proc = _start(tmp_path, twins, db)
    try:
        wait_until(lambda: _limits(twins)["wc1"] == 32.0, "wc1 offered 32 A", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_until(lambda: _at_fallback(twins), "every charger at its fallback", None)
        assert _limits(twins)["wc1"] == 24.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_immutable_database_under_a_running_service_is_an_alert_not_an_exit(
    tmp_path: Path, twins: TwinServer
) -> None:
    from tests.service.test_storage_faults import immutable

    db_file = tmp_path / "pp.db"
    db = sqlite_url(str(db_file))
    added = _panelpilot("users", "add", "olive", "--role", "owner", "--password-stdin",
                        "--db", db, stdin="owner-password-1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    with twins.lock:
        twins.world.chargers["wc1"].car_wants_a = 32.0
    proc = _start(tmp_path, twins, db)
    try:
        wait_until(lambda: _limits(twins)["wc1"] == 32.0, "wc1 offered 32 A", proc)
        with immutable(db_file):
            seen = len(twins.applied("wc1"))
            # Ten more cycles reach the charger while no write can land.
            wait_until(lambda: len(twins.applied("wc1")) >= seen + 10, "ten more cycles", proc)
            assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()
    events = Storage.open(db).events(1000)
    assert any(e.code == "storage_failed" for e in events)  # written once the file was free
