"""The owner's need through the API reaches the snapshot the controller decides on, is audited,
and ends with the session; bad values are refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from panelpilot.control.types import ChargingNeed
from panelpilot.service.needs import next_time_of_day
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    Harness,
    bearer,
    client_for,
    harness,
    token_for,
)


def need_in_snapshot(h: Harness, charger_id: str = "wc1") -> ChargingNeed | None:
    last = h.service.runtime.last
    assert last is not None
    return last.snapshot.chargers[charger_id].need


def plugged(tmp_path: Path) -> Harness:
    h = harness(tmp_path)
    h.world.chargers["wc1"].car_wants_a = 32
    h.cycles(2)
    return h


def test_the_owners_need_reaches_the_snapshot_and_ends_with_the_session(tmp_path: Path) -> None:
    h = plugged(tmp_path)
    api = client_for(h)
    auth = bearer(token_for(h, "olive", OWNER_PASSWORD))
    assert need_in_snapshot(h) is None
    done = api.put(
        "/api/chargers/wc1/need", json={"departure": "07:30", "energy_kwh": 25}, headers=auth
    )
    assert done.status_code == 200, done.text
    assert done.json()["summary"] == "wc1: leaving at 07:30, needs 25 kWh (this session)"
    set_wall_s = h.clock.wall_s()
    h.cycles(1)
    need = need_in_snapshot(h)
    assert need is not None and need.source == "owner"
    departure_wall_s = next_time_of_day("07:30", set_wall_s, None)
    assert need.departure_t == pytest.approx(
        h.clock.monotonic_s() + departure_wall_s - h.clock.wall_s()
    )
    assert need.energy_wh is not None and 24_000 < need.energy_wh <= 25_000  # delivering
    h.cycles(60)
    later = need_in_snapshot(h)
    assert later is not None and later.energy_wh is not None and later.energy_wh < need.energy_wh
    shown = api.get("/api/needs", headers=auth).json()["wc1"]
    assert (shown["source"], shown["wanted_wh"]) == ("owner", 25_000.0)
    assert shown["delivered_wh"] == pytest.approx(25_000.0 - later.energy_wh)
    history = api.get("/api/settings", headers=auth).json()["history"]
    assert any(v["key"] == "need:wc1" and v["who"] == "olive" for v in history)
    h.world.chargers["wc1"].car_wants_a = 0  # the car leaves
    h.cycles(1)
    h.world.chargers["wc1"].car_wants_a = 32  # and the next one has said nothing
    h.cycles(1)
    assert need_in_snapshot(h) is None


def test_an_installer_clears_it_and_the_charger_default_counts_again(tmp_path: Path) -> None:
    h = plugged(tmp_path)
    api = client_for(h)
    auth = bearer(token_for(h, "ivan", INSTALLER_PASSWORD))
    assert api.put("/api/chargers/wc1/need", json={"energy_kwh": 10}, headers=auth).is_success
    h.cycles(1)
    need = need_in_snapshot(h)
    assert need is not None and (need.source, need.departure_t) == ("owner", None)
    assert need.energy_wh == pytest.approx(10_000, abs=200)
    assert api.delete("/api/chargers/wc1/need", headers=auth).is_success
    h.cycles(1)
    assert need_in_snapshot(h) is None


@pytest.mark.parametrize(
    ("charger", "body", "status", "words"),
    [
        ("wc1", {"departure": "7:30"}, 422, "departure: '7:30': not a time of day"),
        ("wc1", {"energy_kwh": 900}, 422, "energy_kwh"),
        ("wc1", {"energy_kwh": "25"}, 422, "energy_kwh"),
        ("wc1", {}, 422, "give departure, energy_kwh or both"),
        ("wc2", {"energy_kwh": 10}, 422, "wc2: no car is plugged in"),
        ("wc9", {"energy_kwh": 10}, 422, "unknown charger 'wc9'"),
        ("wc1", {"energy_kwh": 10, "soc": 80}, 422, "soc"),
    ],
)
def test_a_wrong_need_is_refused_naming_the_field(
    tmp_path: Path, charger: str, body: dict[str, object], status: int, words: str
) -> None:
    h = plugged(tmp_path)
    api = client_for(h)
    auth = bearer(token_for(h, "olive", OWNER_PASSWORD))
    answer = api.put(f"/api/chargers/{charger}/need", json=body, headers=auth)
    assert answer.status_code == status
    assert words in answer.text
    h.cycles(1)
    assert need_in_snapshot(h, "wc1") is None


def test_setting_a_need_needs_a_user(tmp_path: Path) -> None:
    h = plugged(tmp_path)
    assert client_for(h).put("/api/chargers/wc1/need", json={"energy_kwh": 10}).status_code == 401
