"""docs/drivers-sunspec.md lists every SunSpec point the drivers use."""

from __future__ import annotations

from pathlib import Path

from panelpilot.drivers.sunspec import points as pt
from panelpilot.drivers.sunspec.devices import BATTERY_PROFILES, SOLAR_PROFILES

DOC = Path(__file__).parents[3] / "docs" / "drivers-sunspec.md"


def test_every_point_in_the_tables_is_documented():
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]
    used = {p for profile in (*BATTERY_PROFILES, *SOLAR_PROFILES) for p in profile.measure}
    used |= {p for profile in (*BATTERY_PROFILES, *SOLAR_PROFILES) for p in profile.controls}
    used |= {p for profile in (*BATTERY_PROFILES, *SOLAR_PROFILES) for p in profile.reversion}
    used |= {profile.rating for profile in (*BATTERY_PROFILES, *SOLAR_PROFILES)}
    used |= set(pt.METER_POINTS)
    for point in used:
        documented = [r for r in rows if r.startswith(f"| {point.key} |")]
        assert any(f"| {point.point} |" in row for row in documented), point
