"""The docs tell the truth about the code: alert codes, snapshot and decision fields."""

from __future__ import annotations

from pathlib import Path

from panelpilot.control.alerts import ALERTS
from panelpilot.control.codec import decision_to_json
from panelpilot.control.controller import Controller
from panelpilot.control.types import BatteryReading, Snapshot, SolarReading
from panelpilot.site import load_site

DOCS = Path(__file__).parents[1] / "docs"


def test_every_alert_code_is_documented_with_its_severity() -> None:
    text = (DOCS / "alerts.md").read_text()
    for spec in ALERTS:
        assert f"| `{spec.code}` | {spec.severity} |" in text, spec.code


def test_every_decision_field_is_documented() -> None:
    site = load_site(Path(__file__).parents[1] / "examples" / "home-panel-limit.yaml")
    d = Controller(site).decide(
        Snapshot(
            1.0,
            {"site": 150.0},
            batteries={"pw1": BatteryReading(True, 20, 0.5), "pw2": BatteryReading(True, 20)},
            solar={"pw-solar": SolarReading(True, 30), "standalone-pv": SolarReading(True, 10)},
        )
    )
    out = decision_to_json(d)
    text = (DOCS / "formats.md").read_text()
    fields = set(out) | set(out["alerts"][0])
    for section in ("chargers", "batteries", "solar", "networks", "circuits"):
        for entry in out[section].values():
            fields |= set(entry)
    for name in fields:
        assert f"`{name}`" in text or f"`{name}." in text or f".{name}`" in text, name
