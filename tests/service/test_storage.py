"""Storage: settings versions, events, telemetry downsampling, and kill -9 durability, on
SQLite and PostgreSQL (the `db_url` fixture)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from panelpilot.service.accounts import Accounts
from panelpilot.service.storage import DAY_S, Storage


def test_settings_are_versions_with_who_when_and_license(db_url: str) -> None:
    storage = Storage.open(db_url)
    storage.record_setting(
        "pcs", None, {"panel_limit_a": 80}, who="ann", license_number=None, at_s=1, summary="a"
    )
    storage.record_setting(
        "pcs",
        {"panel_limit_a": 80},
        {"panel_limit_a": 100},
        who="ann",
        license_number="EC-1234",
        at_s=2,
        summary="Panel Limit 80 A -> 100 A",
    )
    assert storage.latest_settings() == {"pcs": {"panel_limit_a": 100}}
    newest = storage.setting_history("pcs")[0]
    assert (newest.who, newest.license_number, newest.old, newest.at_s) == (
        "ann",
        "EC-1234",
        {"panel_limit_a": 80},
        2,
    )
    assert [e.kind for e in storage.events()] == ["setting", "setting"]


def test_telemetry_older_than_a_day_is_kept_one_row_a_minute(db_url: str) -> None:
    storage = Storage.open(db_url)
    for second in range(0, 180):  # three minutes of cycles, long ago
        storage.add_telemetry(float(second), {"s": second})
    now_s = 180 + DAY_S
    storage.add_telemetry(now_s, {"s": "now"})
    removed = storage.downsample(now_s)
    rows = storage.telemetry(0)
    assert removed == 177
    assert [(at, step) for at, step, _ in rows] == [(59, 60), (119, 60), (179, 60), (now_s, 0)]


def test_passwords_are_hashed_and_checked(db_url: str) -> None:
    storage = Storage.open(db_url)
    accounts = Accounts(storage)
    accounts.add_user("ann", "owner", "correct horse", 0)
    assert accounts.authenticate("ann", "correct horse") is not None
    assert accounts.authenticate("ann", "wrong password") is None
    assert accounts.authenticate("bob", "correct horse") is None
    with storage.engine.connect() as conn:
        stored = conn.exec_driver_sql("select password_hash from users").scalar_one()
    assert "correct horse" not in stored and stored.startswith("$argon2")


def test_kill_9_during_writes_loses_nothing_acknowledged(db_url: str) -> None:
    url = db_url
    writer = Path(__file__).with_name("storage_writer.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(writer), url], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    acked = 0
    for line in proc.stdout:
        acked = int(line.split()[1])
        if acked >= 40:
            break
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the next writes
    proc.wait()
    for line in proc.stdout:  # acks printed before the kill landed
        acked = int(line.split()[1])
    proc.stdout.close()

    storage = Storage.open(url)
    versions = storage.setting_history("network:garage-net", limit=100_000)
    limits = {v.new["network_limit_a"] for v in versions}
    assert set(range(1, acked + 1)) <= limits
    assert storage.latest_settings()["network:garage-net"]["network_limit_a"] >= acked
    messages = {e.message for e in storage.events(limit=100_000)}
    assert {f"event {n}" for n in range(1, acked + 1)} <= messages
