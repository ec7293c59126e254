"""The charging need on the charger's page: the owner's form, what the session needs, where it
came from, and an estimate marked as one."""

from __future__ import annotations

from pathlib import Path

from panelpilot.service.needs import FinishedSession
from tests.web.helpers import OWNER_PASSWORD, client_for, harness, sign_in


def test_the_owner_says_leaving_at_0730_needs_25_kwh_on_the_chargers_page(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.world.chargers["wc1"].car_wants_a = 32
    h.cycles(2)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    page = client.get("/chargers/wc1").text
    assert 'id="need-none"' in page and 'name="departure"' in page
    assert 'name="departure"' not in client.get("/chargers/wc2").text  # no car: no form
    saved = client.post(
        "/chargers/wc1/need", data={"csrf": csrf, "departure": "07:30", "energy_kwh": "25"}
    )
    assert saved.status_code == 200 and "Charging need saved for this session." in saved.text
    h.cycles(30)
    page = client.get("/chargers/wc1").text
    assert ":30</span>" in page and "07:30" in page.split('id="need-departure"')[1][:40]
    assert 'id="need-wanted" class="num">25.0 kWh' in page
    assert 'id="need-source">set for this session' in page
    delivered = page.split('id="need-delivered" class="num">')[1].split(" kWh")[0]
    assert float(delivered) > 0
    cleared = client.post("/chargers/wc1/need", data={"csrf": csrf, "clear": "1"})
    assert "Charging need cleared" in cleared.text
    h.cycles(1)
    assert 'id="need-none"' in client.get("/chargers/wc1").text


def test_a_wrong_value_is_shown_in_place_and_changes_nothing(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.world.chargers["wc1"].car_wants_a = 32
    h.cycles(2)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    for departure, energy, words in (
        ("7h30", "", "departure: &#39;7h30&#39;: not a time of day"),
        ("", "lots", "Energy needed: &#39;lots&#39; is not a number of kWh"),
        ("", "900", "energy_kwh: 900 kWh is outside 0..500 kWh"),
        ("", "", "give departure, energy_kwh or both"),
    ):
        answer = client.post(
            "/chargers/wc1/need", data={"csrf": csrf, "departure": departure, "energy_kwh": energy}
        )
        assert answer.status_code == 422 and words in answer.text, answer.text[-2000:]
    h.cycles(1)
    assert 'id="need-none"' in client.get("/chargers/wc1").text


def test_an_estimate_is_shown_as_one(tmp_path: Path) -> None:
    h = harness(tmp_path)
    needs = h.service.needs
    assert needs is not None
    needs.book.learn([FinishedSession("wc1", 9 * 3600, 20_000)] * 3)
    h.world.chargers["wc1"].car_wants_a = 32
    h.cycles(2)
    client = client_for(h)
    sign_in(client, "olive", OWNER_PASSWORD)
    page = client.get("/chargers/wc1").text
    assert 'class="estimate">estimate from this charger&#39;s past sessions' in page
    assert 'id="need-wanted" class="num">20.0 kWh' in page
