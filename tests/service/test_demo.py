"""`panelpilot demo` as a subprocess: OCPP charge points and SunSpec meters on loopback."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import httpx

from tests.service.test_end_to_end import DEADLINE_S, free_port


def _charging_a(text: str, charger: str) -> float:
    found = re.search(rf'panelpilot_charger_current_amps{{charger="{charger}"}} ([0-9.]+)', text)
    return float(found.group(1)) if found else 0.0


def test_demo_charges_over_ocpp_and_signs_in_with_its_one_time_password() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "panelpilot", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert proc.stdout is not None
        password = ""
        for line in proc.stdout:
            if "one-time password:" in line:
                password = line.split(":")[-1].strip()
                break
        assert password
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + DEADLINE_S
        with httpx.Client(base_url=base) as client:
            page = ""
            while not page:
                assert time.monotonic() < deadline, "the demo did not answer in time"
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                with contextlib.suppress(httpx.TransportError):
                    page = client.get("/login").text
                time.sleep(0.2)  # polling interval, not synchronisation
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            signed_in = client.post(
                "/login",
                data={"name": "installer", "password": password, "csrf": csrf.group(1)},
            )
            assert signed_in.status_code == 303
            # Per-charger metrics are for signed-in users (a session or a token).
            charging = 0.0
            while charging <= 0.0:
                assert time.monotonic() < deadline, "no car charged over OCPP in time"
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                charging = _charging_a(client.get("/metrics").text, "wc1")
                time.sleep(0.2)  # polling interval, not synchronisation
            devices = client.get("/api/devices").json()
            wc1 = next(c for c in devices["chargers"] if c["id"] == "wc1")
            assert wc1["online"] and wc1["network"] == "garage-net"
            # Meters, battery and solar are read over SunSpec Modbus TCP; the meter sees the car.
            assert all(devices["health"][d]["up"] for d in ("garage", "site", "pw1", "pv1"))
            assert devices["meters"]["garage"]["current_a"] > 0

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
