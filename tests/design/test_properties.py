"""Properties of the rules over many values, not just the seeds' examples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from panelpilot.design.arithmetic import ON_GRID_OPTIONS, OutputOption, allowed_supply_a
from tests.design.conftest import check, put, rules_of

amps = st.integers(min_value=10, max_value=400).map(float)


@settings(max_examples=60, deadline=None)
@given(busbar=amps, main=amps, supply=st.lists(amps, max_size=3))
def test_busbar_120_fires_exactly_when_breakers_exceed_120_percent_of_the_busbar(
    busbar: float, main: float, supply: list[float]
) -> None:
    panel = {"id": "p", "busbar_a": busbar, "main_breaker_a": main, "supply_breakers_a": supply}
    report = check("pw3-home.yaml", put("installation.panels", [panel]))
    over = main + sum(supply) > allowed_supply_a(busbar) + 1e-9
    assert ("BUSBAR-120" in rules_of(report)) == over


@settings(max_examples=60, deadline=None)
@given(option=st.sampled_from(ON_GRID_OPTIONS), rating=st.sampled_from([30, 40, 50, 60, 80]))
def test_ocpd_size_fires_exactly_when_the_breaker_is_not_the_table_1_one(
    option: OutputOption, rating: float
) -> None:
    report = check(
        "pw3-home.yaml",
        put("installation.batteries.0.max_continuous_a", option.max_continuous_a),
        put("installation.batteries.0.ocpd", {"kind": "breaker", "rating_a": rating}),
    )
    assert ("OCPD-SIZE" in rules_of(report)) == (rating != option.breaker_a)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=8), limit=st.integers(min_value=1, max_value=80))
def test_sharing_min_6a_fires_exactly_below_6_a_per_unit(size: int, limit: int) -> None:
    chargers = [
        {"id": f"c{i}", "circuit": "garage", "network": "follower-net", "max_a": 40}
        for i in range(size)
    ]
    report = check(
        "follower-network.yaml",
        put("networks.0.network_limit_a", float(limit)),
        put("chargers", chargers),
    )
    assert ("SHARING-MIN-6A" in rules_of(report)) == (limit < 6 * size)
    assert ("SHARING-SIZE" in rules_of(report)) == (size > 6)


ratings = st.none() | st.integers(min_value=60, max_value=800).map(float)
loads_behind = st.none() | st.integers(min_value=10, max_value=600).map(float)


@settings(max_examples=80, deadline=None)
@given(
    relay=st.sampled_from(["backup-gateway-2", "gateway-3"]),
    rating=ratings,
    loads=loads_behind,
)
def test_gateway_service_fires_exactly_above_200_a_or_unrated_with_over_200_a_behind(
    relay: str, rating: float | None, loads: float | None
) -> None:
    site_relay: dict[str, object] = {"type": relay, "interconnection": "service-feeders"}
    if loads is not None:
        site_relay["downstream_loads_a"] = loads
    report = check(
        "pw3-home.yaml",
        put("installation.service.rating_a", rating),
        put("installation.site_relay", site_relay),
    )
    if rating is not None:
        expected = rating > 200  # a rated service decides alone: loads never excuse it
    else:
        expected = loads is None or loads > 200
    assert ("TIE-GATEWAY-SERVICE" in rules_of(report)) == expected
