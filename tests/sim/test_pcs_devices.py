"""PCS limits with real devices: late meters, slow batteries and inverters, noisy readings.

The bounds held here (control.md, "How the caps move"):

* Every amp-second over the Panel Limit or the export limit follows a disturbance the caps
  could not foresee (a load switching, an export event starting or ending, the sun moving),
  and lasts no longer than the time it takes to see it and act on it: `W` = the slowest
  reading's latency + the slowest response + one period + the slowest ramp + two steps. So
  A·s over <= sum over disturbances of (their size x W). The caps' own raises never put a
  limit over.
* No cap reverses more than `max_reversals_per_hour(hold_s)` times in any hour (7 with the
  default 30 s hold).
* No limit cycle: once nothing changes, the caps stop swinging (at most one more reversal,
  for a battery that fills up).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from panelpilot.control.pcs_law import max_reversals_per_hour
from panelpilot.sim import load_scenario_text
from panelpilot.sim.engine import build_world, run
from panelpilot.sim.pcs_metrics import panel_current_a, reversal_times
from panelpilot.sim.policies import POLICIES

SITE: dict[str, Any] = {
    "voltage_v": 240,
    "circuits": [
        {
            "id": "main-panel",
            "limit_a": 160,
            "breaker_a": 200,
            "busbar_a": 200,
            "meter": "site",
            "children": [{"id": "backup-panel", "limit_a": 100, "breaker_a": 125}],
        }
    ],
    "batteries": [
        {"id": "pw3", "circuit": "backup-panel", "max_discharge_a": 48, "max_charge_a": 48},
        {"id": "pw3x", "circuit": "backup-panel", "max_discharge_a": 48, "max_charge_a": 48},
    ],
    "solar": [
        {"id": "pv", "circuit": "backup-panel", "max_a": 48, "controllable": True},
        {"id": "old-pv", "circuit": "main-panel", "max_a": 40, "controllable": False},
    ],
    "pcs": {"panel": "main-panel", "panel_limit_a": 160, "export_limit_a": 40},
}
DURATION_S = 2400.0
STEP_S = 0.5
WINDOW = (600.0, 1800.0)  # the batteries export at full power (a utility event)

latency = st.floats(0.0, 2.0)
ramp = st.floats(1.0, 10.0)
response = st.floats(0.0, 2.0)
device = st.fixed_dictionaries(
    {"latency_s": latency, "response_s": response, "ramp_s": ramp, "noise_a": st.floats(0, 0.5)}
)
load_event = st.fixed_dictionaries(
    {
        "start_s": st.floats(60.0, 1700.0),
        "duration_s": st.floats(30.0, 600.0),
        "current_a": st.floats(5.0, 40.0),
    }
)


def scenario(
    meter: dict[str, float],
    batteries: list[dict[str, float]],
    solar: list[dict[str, float]],
    base_a: float,
    events: list[dict[str, float]],
    seed: int,
) -> dict[str, Any]:
    sun = {"sunrise_s": 0.0, "sunset_s": 3 * DURATION_S}
    return {
        "site": SITE,
        "duration_s": DURATION_S,
        "step_s": STEP_S,
        "seed": seed,
        "meters": {"site": {"latency_s": meter["latency_s"], "noise_a": meter["noise_a"]}},
        "batteries": {
            bid: {"soc": 0.9, "export_windows": [list(WINDOW)], **d}
            for bid, d in zip(("pw3", "pw3x"), batteries, strict=True)
        },
        "solar": {
            "pv": {"peak_a": 48, **sun, **solar[0]},
            "old-pv": {"peak_a": 40, **sun, **solar[1]},
        },
        "loads": [{"circuit": "main-panel", "base_a": base_a, "events": events}],
    }


def worst_window_s(data: dict[str, Any]) -> float:
    devices = [data["meters"]["site"], *data["batteries"].values(), *data["solar"].values()]
    return float(
        max(d.get("latency_s", 0.0) for d in devices)
        + max(d.get("response_s", 0.0) for d in devices)
        + 1.0  # the controller's period
        + max(d.get("ramp_s", 0.0) for d in devices)
        + 2 * STEP_S
    )


def disturbances_a(data: dict[str, Any]) -> float:
    """The size of everything the caps cannot foresee: loads switching on and off, the
    export event starting and ending, and the sun moving (its fastest change over the run)."""
    loads = sum(2 * e["current_a"] for e in data["loads"][0]["events"])
    event = 2 * 96.0
    peak = 48.0 + 40.0
    sun = peak * np.pi / (data["solar"]["pv"]["sunset_s"] - data["solar"]["pv"]["sunrise_s"])
    return float(loads + event + sun * DURATION_S)


def excess_amp_s(current: Any, limit: float) -> float:
    return float(np.maximum(current - limit, 0.0).sum()) * STEP_S


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a run is seconds: no shrinking
)
@given(
    meter=device,
    batteries=st.lists(device, min_size=2, max_size=2),
    solar=st.lists(device, min_size=2, max_size=2),
    base_a=st.floats(5.0, 40.0),
    events=st.lists(load_event, max_size=3),
    seed=st.integers(0, 1000),
)
def test_pcs_limits_hold_with_late_slow_noisy_devices(
    meter: dict[str, float],
    batteries: list[dict[str, float]],
    solar: list[dict[str, float]],
    base_a: float,
    events: list[dict[str, float]],
    seed: int,
) -> None:
    data = scenario(meter, batteries, solar, base_a, events, seed)
    loaded = load_scenario_text(json.dumps(data), "pcs-devices.yaml")
    world = build_world(loaded)
    trace = run(world, POLICIES["panelpilot"](loaded.site, world.topo)).trace
    bound = disturbances_a(data) * worst_window_s(data)
    panel = panel_current_a(loaded.site, world.topo, trace)
    assert panel is not None
    assert excess_amp_s(panel, 160.0) <= bound
    assert excess_amp_s(-trace.circuit_a[0], 40.0) <= bound
    caps = np.vstack([trace.battery_cap_a, trace.solar_cap_a])
    most = max_reversals_per_hour(loaded.site.pcs.hold_s)
    turns = reversal_times(caps, trace.t_s)
    assert all(len(x) <= most for x in turns)  # the run is under an hour
    # No limit cycle: after the last load event and the export event, a cap reverses at most
    # once more (a battery filling up is one more change the caps must answer).
    quiet_from = max([WINDOW[1], *(e["start_s"] + e["duration_s"] for e in events)]) + 120
    assert all(np.count_nonzero(x >= quiet_from) <= 1 for x in turns)
