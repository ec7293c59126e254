"""Power Control System limits: the seed examples, and the stage rules as properties."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from panelpilot.control import Controller, Decision
from panelpilot.control.pcs import apply_pcs
from panelpilot.control.pcs_caps import nothing_to_control
from panelpilot.control.pcs_law import PcsMemory
from panelpilot.site import load_site, load_site_text
from tests.control.harness import pcs_snapshot, with_pcs

HOME = "examples/home-panel-limit.yaml"  # 160 A Panel Limit, 2 x 48 A Powerwall, 48 A PV
CONDUCTOR = "examples/conductor-limit.yaml"  # 32 A Conductor Limit, 3 Powerwalls

PANEL_ONLY = """
circuits:
  - {id: panel, limit_a: 200, busbar_a: 200, meter: site}
batteries:
  - {id: b1, circuit: panel, max_discharge_a: 48, max_charge_a: 48}
  - {id: b2, circuit: panel, max_discharge_a: 24, max_charge_a: 24}
solar:
  - {id: pv, circuit: panel, max_a: 60, controllable: true}
  - {id: pv-old, circuit: panel, max_a: 30, controllable: false}
pcs: {panel: panel, panel_limit_a: %s}
"""

EXPORT_ONLY = """
circuits:
  - {id: service, limit_a: 200, meter: site}
batteries:
  - {id: b1, circuit: service, max_discharge_a: 48, max_charge_a: 48}
solar:
  - {id: pv, circuit: service, max_a: 60, controllable: true}
pcs: {export_limit_a: %s}
control: {margin_a: 1}
"""


def _home(site_a: float, battery_a: float, pv_a: float, standalone_a: float = 0.0) -> Decision:
    controller = Controller(load_site(HOME))
    snap = pcs_snapshot(
        1.0,
        {"site": site_a},
        {"pw1": battery_a / 2, "pw2": battery_a / 2},
        {"pw-solar": pv_a, "standalone-pv": standalone_a},
    )
    return controller.decide(snap)


def _codes(d: Decision) -> set[str]:
    return {a.code for a in d.alerts}


def test_panel_limit_below_90_percent_touches_nothing() -> None:
    d = _home(site_a=60, battery_a=40, pv_a=30, standalone_a=10)  # 140 A < 144 A
    assert d.batteries["pw1"].max_discharge_a == 48
    assert d.solar["pw-solar"].max_a == 48
    assert not _codes(d) & {"panel_limit_battery", "panel_limit_solar"}


def test_panel_limit_at_90_percent_reduces_the_batteries_first() -> None:
    d = _home(site_a=70, battery_a=40, pv_a=30, standalone_a=10)  # 150 A >= 144 A
    total = d.batteries["pw1"].max_discharge_a + d.batteries["pw2"].max_discharge_a
    assert abs(total - (40 - 6)) < 1e-6  # back to 144 A
    assert d.solar["pw-solar"].max_a == 48  # below 95 % (152 A): solar untouched
    assert "panel_limit_battery" in _codes(d)


def test_panel_limit_at_95_percent_limits_controlled_solar_too() -> None:
    d = _home(site_a=94, battery_a=4, pv_a=46, standalone_a=10)  # 154 A >= 152 A
    assert d.batteries["pw1"].max_discharge_a == 0  # the batteries' 4 A is not enough
    # 154 - 4 A of battery = 150 A, under 95 %: solar is held at its present 46 A.
    assert d.solar["pw-solar"].max_a == 46
    assert "panel_limit_solar" in _codes(d)


def test_panel_limit_exceeded_curtails_every_controlled_source_to_0() -> None:
    d = _home(site_a=120, battery_a=20, pv_a=20, standalone_a=10)  # 170 A > 160 A
    assert all(b.max_discharge_a == 0 for b in d.batteries.values())
    assert d.solar["pw-solar"].max_a == 0
    assert d.solar["standalone-pv"].max_a == 40  # not controllable: left alone
    assert "panel_limit_exceeded" in _codes(d)


def test_panel_limit_counts_negative_site_and_battery_values_as_0() -> None:
    # Exporting 50 A while the batteries charge: panel current is the solar alone.
    d = _home(site_a=-50, battery_a=-30, pv_a=48, standalone_a=40)  # 0 + 88 + 0 = 88 A
    assert not _codes(d) & {"panel_limit_battery", "panel_limit_solar", "panel_limit_exceeded"}
    # No reduction, but while exporting the batteries may add only what keeps batteries and
    # solar within 90 % of 160 A: 144 - 88 = 56 A.
    total = d.batteries["pw1"].max_discharge_a + d.batteries["pw2"].max_discharge_a
    assert abs(total - 56) < 1e-2


def test_conductor_limit_32_a_curtails_powerwall_output() -> None:
    controller = Controller(load_site(CONDUCTOR))
    # 40 A backfeed through the conductor CTs (reads -40: CTs face the grid).
    snap = pcs_snapshot(1.0, {"site": -20, "conductor": -40}, {"pw1": 20, "pw2": 20, "pw3": 20}, {})
    d = controller.decide(snap)
    total = sum(b.max_discharge_a for b in d.batteries.values())
    assert abs(total - (60 - (40 - 31))) < 1e-6  # 1 A margin under 32 A
    assert "conductor_limit" in _codes(d)
    # Under the limit: nothing is reduced; the batteries may add what keeps the backfeed at
    # 31 A (32 A less the 1 A margin): 20 A now + 11 A.
    d = controller.decide(
        pcs_snapshot(2.0, {"site": 0, "conductor": -20}, {"pw1": 7, "pw2": 7, "pw3": 6}, {})
    )
    caps = {k: b.max_discharge_a for k, b in d.batteries.items()}
    assert caps["pw1"] >= 7 and caps["pw2"] >= 7 and caps["pw3"] >= 6
    assert abs(sum(caps.values()) - 31) < 1e-2
    # The warning is held for the hold (30 s) after the backfeed last reached the limit, then
    # ends: one warning for a backfeed hovering at the limit, not one per crossing.
    assert "conductor_limit" in _codes(d)
    later = pcs_snapshot(31.5, {"site": 0, "conductor": -20}, {"pw1": 7, "pw2": 7, "pw3": 6}, {})
    assert "conductor_limit" not in _codes(controller.decide(later))


def test_export_limit_charges_batteries_before_curtailing_solar() -> None:
    controller = Controller(with_pcs(EXPORT_ONLY % 0))
    # Exporting 20 A with the battery idle: ask it to charge 20 A, solar untouched.
    d = controller.decide(pcs_snapshot(1.0, {"site": -20}, {"b1": 0}, {"pv": 50}))
    assert d.batteries["b1"].charge_request_a == 20
    assert d.solar["pv"].max_a == 60
    # Battery full: solar is curtailed by the export instead.
    d = controller.decide(pcs_snapshot(2.0, {"site": -20}, {"b1": 0}, {"pv": 50}, soc=1.0))
    assert d.batteries["b1"].charge_request_a == 0
    assert abs(d.solar["pv"].max_a - 30) < 1e-6
    assert "export_limit_solar" in _codes(d)


def test_lost_meter_curtails_what_its_limit_controls() -> None:
    controller = Controller(load_site(HOME))
    d = controller.decide(pcs_snapshot(1.0, {"site": None}, {"pw1": 5, "pw2": 5}, {"pw-solar": 9}))
    assert all(b.max_discharge_a == 0 for b in d.batteries.values())
    assert d.solar["pw-solar"].max_a == 0
    assert "meter_lost" in _codes(d)


currents = st.floats(-100, 200, allow_nan=False)


@given(
    limit=st.integers(10, 200),
    site_a=currents,
    b1=st.floats(-48, 48),
    b2=st.floats(-24, 24),
    pv=st.floats(0, 60),
    old=st.floats(0, 30),
)
@settings(max_examples=300, deadline=None)
def test_panel_limit_stages(
    limit: int, site_a: float, b1: float, b2: float, pv: float, old: float
) -> None:
    controller = Controller(with_pcs(PANEL_ONLY % limit))
    d = controller.decide(
        pcs_snapshot(1.0, {"site": site_a}, {"b1": b1, "b2": b2}, {"pv": pv, "pv-old": old})
    )
    panel = max(site_a, 0) + pv + old + max(b1, 0) + max(b2, 0)
    out1, out2 = max(b1, 0), max(b2, 0)
    cap1, cap2 = d.batteries["b1"].max_discharge_a, d.batteries["b2"].max_discharge_a
    if panel < 0.9 * limit:
        # No battery reduction below 90 %: never capped below what it gives now.
        assert cap1 >= out1 - 1e-2 and cap2 >= out2 - 1e-2
    if panel < 0.95 * limit:
        assert d.solar["pv"].max_a >= pv - 1e-2  # solar not curtailed below 95 %
    if panel > limit:
        assert cap1 + cap2 == 0 and d.solar["pv"].max_a == 0  # all controlled sources at 0
    elif panel >= 0.9 * limit:
        reduced = max(0.0, out1 + out2 - (panel - 0.9 * limit))
        assert cap1 + cap2 <= reduced + 1e-2  # reduced by the excess
        if panel >= 0.95 * limit:
            assert d.solar["pv"].max_a <= pv + 1e-2  # held at (or below) its present output
    # The caps never let batteries and solar together past 95 % of the limit when they could
    # stay under it.
    if pv + old <= 0.9 * limit and panel <= limit:
        assert (
            min(cap1 + cap2, 72) + old + min(d.solar["pv"].max_a, pv)
            <= max(0.95 * limit, panel) + 1e-2
        )
    assert d.solar["pv-old"].max_a == 30  # never a controlled source


@given(
    limit=st.integers(1, 100),
    conductor=st.floats(-150, 150),
    b=st.floats(0, 48),
)
@settings(max_examples=300, deadline=None)
def test_conductor_limit_curtails_battery_output_by_the_excess(
    limit: int, conductor: float, b: float
) -> None:
    site = with_pcs(f"""
circuits:
  - {{id: service, limit_a: 200, meter: site, children: [{{id: gw, limit_a: 100, meter: ct}}]}}
batteries:
  - {{id: b1, circuit: gw, max_discharge_a: 48, max_charge_a: 48}}
pcs: {{conductor_limit_a: {limit}, conductor_meter: ct}}
control: {{margin_a: 0}}
""")
    d = Controller(site).decide(pcs_snapshot(1.0, {"site": 0, "ct": conductor}, {"b1": b}, {}))
    cap = d.batteries["b1"].max_discharge_a
    backfeed = -conductor
    if backfeed > limit:
        assert cap <= max(0.0, b - (backfeed - limit)) + 1e-6  # reduced by the excess
    else:
        # Not reduced, and allowed only what keeps the backfeed at the limit.
        assert cap >= b - 1e-2
        assert abs(cap - min(48.0, b + (limit - backfeed))) < 1e-2


@given(
    limit=st.integers(0, 50),
    site_a=st.floats(-150, 50),
    b=st.floats(-48, 48),
    soc=st.floats(0, 1),
    pv=st.floats(0, 60),
)
@settings(max_examples=300, deadline=None)
def test_export_limit_charges_batteries_before_solar_curtailment(
    limit: int, site_a: float, b: float, soc: float, pv: float
) -> None:
    d = Controller(with_pcs(EXPORT_ONLY % limit)).decide(
        pcs_snapshot(1.0, {"site": site_a}, {"b1": b}, {"pv": pv}, soc=soc)
    )
    if d.solar["pv"].max_a < 60:
        # Solar is curtailed only when the battery neither discharges nor can charge more.
        assert d.batteries["b1"].max_discharge_a == 0
        if soc < 0.999:
            assert abs(d.batteries["b1"].charge_request_a - 48) < 1e-6
    if -site_a <= max(0, limit - 1):
        assert d.solar["pv"].max_a == 60


@given(meter_lost=st.sampled_from(["site", "ct"]), b=st.floats(0, 48), pv=st.floats(0, 60))
@settings(max_examples=100, deadline=None)
def test_meter_loss_never_raises_a_cap(meter_lost: str, b: float, pv: float) -> None:
    site = with_pcs("""
circuits:
  - id: service
    limit_a: 200
    busbar_a: 200
    meter: site
    children: [{id: gw, limit_a: 100, meter: ct}]
batteries:
  - {id: b1, circuit: gw, max_discharge_a: 48, max_charge_a: 48}
solar:
  - {id: pv, circuit: gw, max_a: 60}
pcs:
  panel: service
  panel_limit_a: 100
  conductor_limit_a: 32
  conductor_meter: ct
  export_limit_a: 10
""")
    controller = Controller(site)
    before = controller.decide(pcs_snapshot(1.0, {"site": 20, "ct": -10}, {"b1": b}, {"pv": pv}))
    meters: dict[str, float | None] = {"site": 20, "ct": -10}
    meters[meter_lost] = None
    after = controller.decide(pcs_snapshot(2.0, meters, {"b1": b}, {"pv": pv}))
    assert after.batteries["b1"].max_discharge_a <= before.batteries["b1"].max_discharge_a
    assert after.batteries["b1"].max_discharge_a == 0
    assert after.solar["pv"].max_a <= before.solar["pv"].max_a
    assert "meter_lost" in _codes(after)


def _hover(controller: Controller, t: float, site_a: float) -> set[str]:
    snap = pcs_snapshot(
        t, {"site": site_a}, {"pw1": 20, "pw2": 20}, {"pw-solar": 30, "standalone-pv": 0}
    )
    return _codes(controller.decide(snap))


@settings(max_examples=40, deadline=None)
@given(wobble=st.lists(st.floats(-1.5, 1.5), min_size=60, max_size=200))
def test_a_load_hovering_at_a_stage_raises_one_warning(wobble: list[float]) -> None:
    """Panel current wandering within 1.5 A of the 90 % stage (144 A of 160 A), inside the
    2 % deadband (3.2 A): the battery stage's warning starts once and stays, however often
    the current crosses the threshold; it ends 30 s (the hold) after it last held."""
    controller = Controller(load_site(HOME))
    starts, was, t = 0, False, 0.0
    for w in [1.0, *wobble]:  # the first reading is over the stage
        t += 1.0
        now = "panel_limit_battery" in _hover(controller, t, 144.0 + w - 70.0)  # 40 + 30 A
        starts += now and not was
        was = now
    assert starts == 1 and was
    assert "panel_limit_battery" in _hover(controller, t + 29.0, 40.0)
    assert "panel_limit_battery" not in _hover(controller, t + 30.0, 40.0)


NO_PCS_DEVICES = """
circuits:
  - id: service
    limit_a: 200
    meter: site
    children:
      - {id: garage, limit_a: 100, meter: garage}
chargers:
  - {id: wc1, circuit: garage, max_a: 32}
%s
"""


@given(
    pcs=st.sampled_from(
        ["", "pcs: {export_limit_a: 20}", "pcs: {conductor_limit_a: 60, conductor_meter: site}"]
    ),
    cycles=st.lists(
        st.tuples(
            st.floats(-300, 300) | st.none(), st.floats(-300, 300) | st.none(), st.floats(0, 60)
        ),
        min_size=1,
        max_size=8,
    ),
)
@settings(max_examples=60, deadline=None)
def test_a_pcs_step_with_nothing_to_control_gives_what_the_full_step_gives(
    pcs: str, cycles: list[tuple[float | None, float | None, float]]
) -> None:
    site = load_site_text(NO_PCS_DEVICES % pcs)
    assert nothing_to_control(site, PcsMemory()) == (pcs == "")
    memory = full_memory = None
    t = 0.0
    for site_a, garage_a, dt in cycles:
        t += dt
        snap = pcs_snapshot(t, {"site": site_a, "garage": garage_a}, {}, {})
        meters = {"site": site_a, "garage": garage_a}
        got = apply_pcs(site, snap, lambda a, b: a == b, meters, memory, dt)
        with patch("panelpilot.control.pcs.nothing_to_control", return_value=False):
            full = apply_pcs(site, snap, lambda a, b: a == b, meters, full_memory, dt)
        assert got == full
        memory, full_memory = got.memory, full.memory
