"""The Events page's log: pages, filters, and an alert's start and clear as one row."""

from __future__ import annotations

from pathlib import Path

from panelpilot.service.database import sqlite_url
from panelpilot.service.event_log import duration_text, log_page
from panelpilot.service.storage import Storage


def _storage(tmp_path: Path) -> Storage:
    return Storage.open(sqlite_url(str(tmp_path / "log.db")))


def test_an_alert_and_its_clear_are_one_row_with_the_duration(tmp_path: Path) -> None:
    s = _storage(tmp_path)
    s.add_event(100.0, "alert", "meter garage lost", code="meter_lost", device="garage")
    s.add_event(110.0, "auth", "ivan signed in", who="ivan")
    s.add_event(292.0, "alert_cleared", "cleared: meter garage lost", code="meter_lost",
                device="garage")  # fmt: skip
    s.add_event(300.0, "alert", "wc2 offline", code="charger_offline", device="wc2")
    rows = log_page(s, "all", None).rows
    assert [r.message for r in rows] == ["wc2 offline", "meter garage lost", "ivan signed in"]
    active, cleared, _ = rows
    assert active.active and active.until_s is None
    assert (cleared.at_s, cleared.until_s, cleared.duration_s) == (100.0, 292.0, 192.0)
    assert duration_text(192.0) == "3\u00a0min 12\u00a0s"


def test_a_second_alert_of_the_same_code_pairs_with_its_own_clear(tmp_path: Path) -> None:
    s = _storage(tmp_path)
    for start, end in ((10.0, 20.0), (30.0, 45.0)):
        s.add_event(start, "alert", "lost", code="meter_lost", device="site")
        s.add_event(end, "alert_cleared", "cleared: lost", code="meter_lost", device="site")
    rows = log_page(s, "alerts", None).rows
    assert [(r.at_s, r.until_s) for r in rows] == [(30.0, 45.0), (10.0, 20.0)]


def test_filters_and_pages(tmp_path: Path) -> None:
    s = _storage(tmp_path)
    for i in range(120):
        s.add_event(float(i), "telemetry_note" if i % 2 else "auth", f"event {i}", who="ivan")
    s.add_event(200.0, "setting", "network garage-net limit set to 64 A", who="ivan")
    s.add_event(201.0, "alert", "wc2 offline", code="charger_offline", device="wc2")
    settings = log_page(s, "settings", None)
    assert [r.kind for r in settings.rows] == ["setting"] and settings.older_than is None
    assert [r.device for r in log_page(s, "devices", None).rows] == ["wc2"]
    sign_ins = log_page(s, "sign-ins", None)
    assert len(sign_ins.rows) == 50 and {r.kind for r in sign_ins.rows} == {"auth"}
    second = log_page(s, "sign-ins", sign_ins.older_than)
    assert second.rows[0].id < sign_ins.rows[-1].id and len(second.rows) == 10
    assert second.older_than is None
    assert log_page(s, "nonsense", None).show == "all"
