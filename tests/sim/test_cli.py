"""`panelpilot sim`: the table, `--json` and `--plot` on a short scenario."""

import json
from pathlib import Path

from typer.testing import CliRunner

from panelpilot.cli import app

SCENARIO = """\
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


def write(tmp_path: Path) -> Path:
    path = tmp_path / "two-cars.yaml"
    path.write_text(SCENARIO)
    return path


def test_json_has_every_controller_and_their_metrics(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sim", str(write(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["controllers"]) == ["panelpilot", "static", "none"]
    assert data["scenario"]["cars"] == 2
    pp, none = data["controllers"]["panelpilot"], data["controllers"]["none"]
    assert pp["breaker_trips"] == 0
    assert pp["networks"]["n"]["overload_amp_s"] == 0.0
    # Two 32 A cars on a 40 A network: `none` runs 64 A on a 50 A breaker.
    assert none["circuits"]["garage"]["peak_a"] == 64.0
    assert [c["charger"] for c in pp["cars"]] == ["wc1", "wc2"]


def test_table_names_every_controller(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sim", str(write(tmp_path))])
    assert result.exit_code == 0, result.output
    for word in ("panelpilot", "static", "none", "energy delivered", "breaker trips"):
        assert word in result.stdout


def test_plot_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "run.png"
    result = CliRunner().invoke(app, ["sim", str(write(tmp_path)), "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
