"""The run plot: which panels a scenario gets, the lines a reader looks for, no probe comb,
legends off the data, and an image written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from panelpilot.sim import plot_panels
from panelpilot.sim.loader import load_scenario
from panelpilot.sim.plot import build_figure, plot_report
from panelpilot.sim.plot_series import limit_trend, reversals
from panelpilot.sim.runner import SimReport, simulate

# A home under a Panel Limit of 60 A and an export limit of 10 A: a battery that joins an
# export event and solar at midday push past both, and one 16 A car on a 48 A charger (capped
# near its draw).
PCS_SCENARIO = """\
site:
  voltage_v: 240
  circuits:
    - id: main
      limit_a: 100
      breaker_a: 125
      meter: site
      children:
        - {id: ev, limit_a: 40, breaker_a: 50}
  batteries:
    - {id: pw, circuit: main, max_discharge_a: 40, max_charge_a: 40}
  solar:
    - {id: pv, circuit: main, max_a: 40, controllable: true}
  chargers:
    - {id: wc1, circuit: ev, max_a: 48}
  pcs: {panel: main, panel_limit_a: 60, export_limit_a: 10}
duration_s: 1500
evs:
  - {charger: wc1, arrive_s: 0, energy_kwh: 40, max_a: 16, response_s: 2}
loads:
  - {circuit: main, base_a: 5}
solar:
  pv: {peak_a: 40, sunrise_s: 0, sunset_s: 1500}
batteries:
  pw: {capacity_kwh: 13.5, soc: 0.9, export_windows: [[300, 900]]}
"""

# Two 32 A cars on a 40 A network under a 50 A breaker: no PCS, and `none` heats the breaker.
CARS_ONLY = """\
site:
  circuits:
    - {id: garage, limit_a: 40, breaker_a: 50, meter: garage}
  networks:
    - {id: n, circuit: garage, network_limit_a: 40}
  chargers:
    - {id: wc1, circuit: garage, network: n, max_a: 32}
    - {id: wc2, circuit: garage, network: n, max_a: 32}
duration_s: 300
evs:
  - {charger: wc1, arrive_s: 0, energy_kwh: 20, max_a: 32, response_s: 2}
  - {charger: wc2, arrive_s: 60, energy_kwh: 20, max_a: 32, response_s: 5}
"""


# A 16 A car (on a 32 A charger) beside a 32 A car on 40 A: the first is capped at its draw,
# its headroom goes to the second, and the controller re-probes it now and then.
PROBED = """\
site:
  circuits:
    - {id: garage, limit_a: 40, breaker_a: 50}
  networks:
    - {id: n, circuit: garage, network_limit_a: 40}
  chargers:
    - {id: wc1, circuit: garage, network: n, max_a: 32}
    - {id: wc2, circuit: garage, network: n, max_a: 32}
duration_s: 1500
evs:
  - {charger: wc1, arrive_s: 0, energy_kwh: 40, max_a: 16, response_s: 2}
  - {charger: wc2, arrive_s: 0, energy_kwh: 40, max_a: 32, response_s: 2}
"""


def run(tmp_path: Path, text: str, name: str) -> SimReport:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return simulate(load_scenario(path))


@pytest.fixture(scope="module")
def pcs_report(tmp_path_factory: pytest.TempPathFactory) -> SimReport:
    return run(tmp_path_factory.mktemp("pcs"), PCS_SCENARIO, "pcs")


@pytest.fixture(scope="module")
def pcs_figure(pcs_report: SimReport) -> Figure:
    return build_figure(pcs_report)


def axes(fig: Figure) -> dict[str, Axes]:
    return {str(ax.get_label()): ax for ax in fig.axes}


def line(ax: Axes, gid: str) -> Line2D:
    found = [x for x in ax.get_lines() if x.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {[x.get_gid() for x in ax.get_lines()]}"
    return found[0]


def level(x: Line2D) -> float:
    ys = np.asarray(x.get_ydata(), dtype=np.float64)
    assert np.all(ys == ys[0]), "a limit is one level"
    return float(ys[0])


def test_a_pcs_site_gets_every_panel_in_order(pcs_figure: Figure) -> None:
    names = list(axes(pcs_figure))
    assert names == ["circuits", "breakers", "cars", "panel", "solar", "batteries", "export",
                     "energy"]  # fmt: skip


def test_panel_limit_and_its_stage_marks_are_drawn_at_their_values(pcs_figure: Figure) -> None:
    panel = axes(pcs_figure)["panel"]
    assert level(line(panel, "panel-limit")) == 60.0
    assert level(line(panel, "stage-95")) == pytest.approx(57.0)
    assert level(line(panel, "stage-90")) == pytest.approx(54.0)
    labels = panel.get_legend_handles_labels()[1]
    assert "Panel Limit (60 A)" in labels and "nothing held back" in labels


def test_export_limit_is_drawn_and_the_baseline_exports_more(pcs_figure: Figure) -> None:
    export = axes(pcs_figure)["export"]
    assert level(line(export, "export-limit")) == 10.0
    drawn = {x.get_label(): np.asarray(x.get_ydata()) for x in export.get_lines()}
    # The export event would push far past 10 A with nothing held back.
    assert drawn["nothing held back"].max() > 20.0
    assert drawn["export (- import)"].max() < drawn["nothing held back"].max()


def test_solar_and_battery_panels_show_output_cap_and_baseline(pcs_figure: Figure) -> None:
    solar = axes(pcs_figure)["solar"].get_legend_handles_labels()[1]
    battery = axes(pcs_figure)["batteries"].get_legend_handles_labels()[1]
    assert solar == ["pv output", "pv cap (rating 40 A)", "pv available"]
    assert battery == ["pw output", "pw discharge cap (rating 40 A)", "pw wanted"]


def test_the_car_line_has_no_probe_comb(tmp_path: Path) -> None:
    report = run(tmp_path, PROBED, "probed")
    raw = report.runs["panelpilot"].trace.pilot_a[0].astype(np.float64)
    beside = report.runs["panelpilot"].trace.pilot_a[1].astype(np.float64)
    cars = axes(build_figure(report))["cars"]
    trend = np.asarray(line(cars, "trend-wc1").get_ydata(), dtype=np.float64)
    probes = line(cars, "probes-wc1")
    # A probe offers the capped car its draw + headroom_a (18 A), not its charger's 32 A,
    # so the car beside it gives way by the headroom only.
    assert raw[60:].max() == 18.0
    assert beside[60:].min() >= 22.0
    assert reversals(raw) >= 4
    assert reversals(trend) < reversals(raw) / 2
    assert trend[60:].max() < 17.0, "after the first minute the trend follows the 16 A car"
    assert len(np.asarray(probes.get_xdata())) >= 2


def test_legends_sit_outside_the_data(pcs_figure: Figure) -> None:
    pcs_figure.canvas.draw()
    for ax in pcs_figure.axes:
        legend = ax.get_legend()
        assert legend is not None, ax.get_label()
        assert legend.get_window_extent().x0 >= ax.get_window_extent().x1, ax.get_label()


def test_time_panels_share_one_axis(pcs_figure: Figure) -> None:
    found = axes(pcs_figure)
    circuits = found["circuits"]
    for name in ("cars", "panel", "export"):
        assert found[name].get_shared_x_axes().joined(circuits, found[name])
    assert not found["energy"].get_shared_x_axes().joined(circuits, found["energy"])
    for ax in pcs_figure.axes:
        assert "(" in ax.get_title(loc="left"), f"{ax.get_label()}: a title with its unit"


def test_a_site_without_pcs_gets_no_pcs_panel_and_the_heated_breaker(tmp_path: Path) -> None:
    report = run(tmp_path, CARS_ONLY, "cars")
    found = axes(build_figure(report))
    assert list(found) == ["circuits", "breakers", "breaker-heat", "cars", "energy"]
    heat = found["breaker-heat"].get_legend_handles_labels()[1]
    # `none` runs 64 A on the 50 A breaker; panelpilot keeps it cold.
    assert any(x.startswith("none: garage") for x in heat)
    assert "panelpilot: garage (peak 0 %)" in heat
    load = found["breakers"].get_legend_handles_labels()[1]
    assert any(x.startswith("garage 50 A (peak") for x in load)


def test_the_image_is_written(tmp_path: Path, pcs_report: SimReport) -> None:
    out = tmp_path / "run.png"
    plot_report(pcs_report, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "run.svg"
    plot_report(pcs_report, svg)
    assert b"<svg" in svg.read_bytes()[:400]


def test_trend_keeps_long_changes_and_takes_out_short_spikes() -> None:
    # 18 A, a probe (36 then 39 A for 6 s), 18 A, 10 A: the probe goes, the step down stays.
    pilot = np.array([18.0] * 100 + [36.0] + [39.0] * 5 + [18.0] * 100 + [10.0] * 100)
    trend = limit_trend(pilot, 1.0)
    assert np.array_equal(trend.limit_a, [18.0] * 206 + [10.0] * 100)
    assert list(trend.probe_index) == [100] and list(trend.probe_a) == [39.0]
    # A car taking turns (0 A, then 6 A for 15 minutes) is not a probe.
    turns = np.array([0.0] * 900 + [6.0] * 900 + [0.0] * 900)
    assert np.array_equal(limit_trend(turns, 1.0).limit_a, turns)


def test_every_plot_docs_show_is_committed() -> None:
    docs = Path(__file__).parents[2] / "docs"
    text = (docs / "simulator.md").read_text()
    shown = re.findall(r"!\[[^\]]*\]\((images/sim-[^)]+\.png)\)", text)
    assert shown == [
        "images/sim-seed-day.png",
        "images/sim-shared-panel.png",
        "images/sim-home-pcs.png",
    ]
    for name in shown:
        assert (docs / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_many_cars_get_one_curve_per_controller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past MAX_CAR_BARS cars, bars say nothing: each controller's sorted shares instead.
    monkeypatch.setattr(plot_panels, "MAX_CAR_BARS", 1)
    report = run(tmp_path, CARS_ONLY, "cars")
    energy = axes(build_figure(report))["energy"]
    curves = {str(x.get_label()).split(" ")[0]: x for x in energy.get_lines()}
    assert list(curves) == ["panelpilot", "static", "none"]
    for curve in curves.values():
        shares = np.asarray(curve.get_ydata(), dtype=np.float64)
        assert len(shares) == 2 and np.all(np.diff(shares) >= 0)
        assert np.all((shares >= 0) & (shares <= 100))
