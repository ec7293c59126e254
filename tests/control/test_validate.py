"""A snapshot the controller cannot use is refused, naming the field and what is allowed."""

from __future__ import annotations

import math

import pytest

from panelpilot.control import ChargerReading, ChargingNeed, Snapshot
from panelpilot.control.validate import KnownDevices, SnapshotError, check_snapshot
from panelpilot.site import load_site_text

SITE = load_site_text(
    """
circuits:
  - {id: service, limit_a: 100, meter: site}
chargers:
  - {id: wc1, circuit: service, max_a: 48}
""",
    "site.yaml",
)
KNOWN = KnownDevices.of(SITE)


def test_a_usable_snapshot_passes() -> None:
    check_snapshot(
        KNOWN, 0.0, Snapshot(1.0, {"site": 3.0}, {"wc1": ChargerReading(True, True, 16.0, 32.0)})
    )


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (ChargerReading(True, True, math.nan, 32.0), "chargers.wc1.current_a: nan is not a finite"),
        (ChargerReading(True, True, -1.0, 32.0), "chargers.wc1.current_a: -1 is negative"),
        (ChargerReading(True, True, 1.0, -2.0), "chargers.wc1.limit_a: -2 must be 0 or more"),
        (ChargerReading(True, True, 1.0, math.nan), "chargers.wc1.limit_a: nan must be 0 or more"),
        (ChargerReading(True, True, 1.0, math.inf), "chargers.wc1.limit_a: inf must be 0 or more"),
        (ChargerReading(True, True, math.inf, None), "chargers.wc1.current_a: inf is not a finite"),
        (
            ChargerReading(True, True, 1.0, need=ChargingNeed(math.nan, 1000.0)),
            "chargers.wc1.need.departure_t: nan is not a finite time",
        ),
        (
            ChargerReading(True, True, 1.0, need=ChargingNeed(3600.0, -5.0)),
            "chargers.wc1.need.energy_wh: -5 must be a finite number of Wh, 0 or more",
        ),
        (
            ChargerReading(True, True, 1.0, need=ChargingNeed(None, math.inf)),
            "chargers.wc1.need.energy_wh: inf must be a finite number of Wh",
        ),
    ],
)
def test_impossible_charger_values_are_refused(reading: ChargerReading, message: str) -> None:
    with pytest.raises(SnapshotError, match=message.replace(".", r"\.")):
        check_snapshot(KNOWN, 0.0, Snapshot(1.0, {"site": 3.0}, {"wc1": reading}))


def test_unknown_devices_and_time_going_back_are_refused() -> None:
    with pytest.raises(SnapshotError, match=r"chargers\.wc9: unknown device; this site has: wc1"):
        check_snapshot(KNOWN, 0.0, Snapshot(1.0, {}, {"wc9": ChargerReading()}))
    with pytest.raises(SnapshotError, match="before the previous snapshot"):
        check_snapshot(KNOWN, 5.0, Snapshot(1.0))
