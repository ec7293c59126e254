"""A circuit over its limit: a brief step of its other loads is `circuit_load_step` (info)
while the chargers come down; past the bound (one period plus the car's response) or above
the breaker it is `circuit_overload` (critical)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from panelpilot.control import Controller, Snapshot
from panelpilot.site import load_site_text

SITE = """
circuits:
  - {id: garage, limit_a: 80, breaker_a: 100, meter: garage}
control: {period_s: 1, response_s: 5}
"""


def _codes(controller: Controller, t: float, reading_a: float) -> dict[str, str]:
    d = controller.decide(Snapshot(t, {"garage": reading_a}))
    return {a.code: a.severity for a in d.alerts if a.device == "garage"}


def test_a_step_is_info_within_the_bound_and_critical_past_it() -> None:
    controller = Controller(load_site_text(SITE, "site.yaml"))
    assert _codes(controller, 0.0, 70.0) == {}
    assert _codes(controller, 1.0, 84.0) == {"circuit_load_step": "info"}
    assert _codes(controller, 7.0, 84.0) == {"circuit_load_step": "info"}  # 6 s: the bound
    assert _codes(controller, 7.5, 84.0) == {"circuit_overload": "critical"}
    # Back under the limit: the next step starts its own clock.
    assert _codes(controller, 8.0, 79.0) == {}
    assert _codes(controller, 9.0, 81.0) == {"circuit_load_step": "info"}


def test_above_the_breaker_is_critical_at_once() -> None:
    controller = Controller(load_site_text(SITE, "site.yaml"))
    assert _codes(controller, 0.0, 101.0) == {"circuit_overload": "critical"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.1, 3.0), st.floats(0.0, 120.0)), min_size=1, max_size=40))
def test_critical_exactly_when_over_for_longer_than_the_bound_or_the_breaker(
    steps: list[tuple[float, float]],
) -> None:
    """Against a model: over since the first reading above the limit in the current run of
    such readings; critical when that run is longer than 6 s or the reading above 100 A."""
    controller = Controller(load_site_text(SITE, "site.yaml"))
    t, since = 0.0, None
    for dt, reading in steps:
        t += dt
        codes = _codes(controller, t, reading)
        if reading <= 80.0:
            since = None
            assert codes == {}
            continue
        since = t if since is None else since
        critical = reading > 100.0 or t - since > 6.0
        assert codes == (
            {"circuit_overload": "critical"} if critical else {"circuit_load_step": "info"}
        )
