"""Ten minutes of `panelpilot demo` (at `--speed 5`, so two minutes of real time) in
headless Chromium: the PCS stages settle and the pages show no alarm in steady state.

The demo's loads stay under its 100 A Panel Limit (the house 4-12 A, the garage at most its
80 A), so `panel_limit_exceeded` must never start; its stage warnings are held (one warning
for a load hovering at a stage, not one per crossing); a garage load that steps up is an
`info` while the chargers come down within the bound control.md states, never a red alarm.
Set PANELPILOT_SCREENSHOTS=docs/screenshots to refresh `demo-home.png`, `demo-live.png`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.service.test_end_to_end import free_port
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, WIDTHS, sign_in

SPEED = 5.0
DEMO_S = 600.0  # ten demo minutes
REAL_DEADLINE_S = DEMO_S / SPEED * 3 + 60.0

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt-get install chromium)"
)


@contextlib.contextmanager
def _demo(db: Path) -> Iterator[tuple[str, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "panelpilot", "demo", "--port", str(port)),
            *("--db", str(db), "--speed", f"{SPEED:g}"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
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
        assert password, "the demo printed no password"
        yield f"http://127.0.0.1:{port}", password
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _until(fetch: Any, done: Any, what: str) -> Any:
    deadline = time.monotonic() + REAL_DEADLINE_S
    while True:
        with contextlib.suppress(httpx.TransportError, KeyError, ValueError):
            value = fetch()
            if done(value):
                return value
        assert time.monotonic() < deadline, f"{what} did not happen in time"
        time.sleep(0.5)  # polling interval, not synchronisation


def _events(client: httpx.Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        params = {"limit": 500} | ({"before_id": before} if before else {})
        page = client.get("/api/events", params=params).json()
        out += page
        if len(page) < 500:
            return out
        before = page[-1]["id"]


def _shots(tmp_path: Path) -> Path:
    target = os.environ.get("PANELPILOT_SCREENSHOTS")
    folder = Path(target) if target else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_ten_demo_minutes_settle_with_no_alarm_in_steady_state(tmp_path: Path) -> None:
    with _demo(tmp_path / "demo.db") as (base, password), httpx.Client(base_url=base) as client:
        login = _until(lambda: client.get("/login"), lambda r: r.status_code == 200, "sign-in")
        csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/login", data={"name": "installer", "password": password, "csrf": csrf})
        first_t = _until(
            lambda: client.get("/api/decision").json()["t"], lambda t: t > 0, "a first cycle"
        )
        _until(
            lambda: client.get("/api/decision").json()["t"],
            lambda t: t - first_t >= DEMO_S,
            "ten demo minutes",
        )
        alerts = [e for e in _events(client) if e["kind"] == "alert"]
        starts: dict[str, int] = {}
        for e in alerts:
            starts[e["code"]] = starts.get(e["code"], 0) + 1
        assert "panel_limit_exceeded" not in starts, starts
        # Held warnings: a handful of starts in ten minutes (69 a stage before they were held).
        assert starts.get("panel_limit_battery", 0) <= 5, starts
        assert starts.get("panel_limit_solar", 0) <= 5, starts
        assert not [e for e in alerts if e["code"] == "circuit_overload"], starts
        # Steady state: the pages show no critical alert.
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            shots = _shots(tmp_path)
            for width, (w, h) in sorted(WIDTHS.items()):
                suffix = "" if width == "desktop" else "-390"
                context = browser.new_context(base_url=base, viewport={"width": w, "height": h})
                page = context.new_page()
                sign_in(page, "installer", password)
                page.goto("/")
                expect(page.locator("#home-alerts")).to_be_visible()
                expect(page.locator("#home-alerts li.sev-critical")).to_have_count(0)
                page.screenshot(path=str(shots / f"demo-home{suffix}.png"), full_page=True)
                page.goto("/live")
                expect(page.locator("#alerts")).to_be_attached()
                expect(page.locator("#pcs-limits tr[data-pcs-limit]")).not_to_have_count(0)
                expect(page.locator("#alerts li.sev-critical")).to_have_count(0)
                page.screenshot(path=str(shots / f"demo-live{suffix}.png"), full_page=True)
                context.close()
            browser.close()
