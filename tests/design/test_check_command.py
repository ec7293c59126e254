"""`panelpilot check`: exit codes 0/1/2, the --json shape, and the generated rules document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.cli.rules_doc import rules_markdown
from tests.design.conftest import EXAMPLES

DOCS = Path(__file__).parents[2] / "docs"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_good_design_exits_0_and_shows_the_numbers() -> None:
    code, out, _ = run(str(EXAMPLES / "pw3-home.yaml"))
    assert code == 0
    assert "PASS" in out
    assert "200 A x 1.2 - 200 A main = 40 A breaker; x 0.8 = 32 A continuous" in out
    assert "suggested Panel Limit 160 A" in out
    assert "31.7 A (7.6 kW) -> OCPD 40 A" in out
    assert "80 A / 2 = 40 A per unit" in out


def test_a_bad_design_exits_1_with_errors_first() -> None:
    code, out, _ = run(str(EXAMPLES / "pw3-bad-design.yaml"))
    assert code == 1
    assert "FAIL" in out
    assert out.index("Errors") < out.index("Warnings")


def test_json_is_one_object_with_findings_and_computed() -> None:
    code, out, _ = run(str(EXAMPLES / "pw3-bad-design.yaml"), "--json")
    assert code == 1
    report = json.loads(out)
    assert set(report) >= {"findings", "computed"}
    first = report["findings"][0]
    assert set(first) >= {"rule", "severity", "message", "source"}
    assert first["severity"] == "error"
    assert {f["rule"] for f in report["findings"]} >= {"PW3-COUNT", "OCPD-SIZE", "BUSBAR-120"}
    assert report["summary"]["error"] == sum(
        1 for f in report["findings"] if f["severity"] == "error"
    )
    assert report["computed"]["conductor"]["conductor_limit_a"] == 32


def test_json_of_a_clean_design_has_no_findings() -> None:
    code, out, _ = run(str(EXAMPLES / "pw3-home.yaml"), "--json")
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_every_example_is_checked_without_a_traceback() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        code, _, err = run(str(path))
        assert code in (0, 1), (path, err)


def test_a_missing_file_exits_2() -> None:
    code, _, err = run("no-such-site.yaml")
    assert code == 2
    assert "no such file" in err


def test_a_wrong_type_in_installation_exits_2_with_file_line_field(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "circuits:\n  - {id: main, limit_a: 160}\n"
        "installation:\n  site_relay:\n    type: gateway-4\n",
        encoding="utf-8",
    )
    code, _, err = run(str(site))
    assert code == 2
    assert f"{site}:5: installation.site_relay.type:" in err
    assert "Traceback" not in err


def test_bad_yaml_exits_2(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("circuits: [\n", encoding="utf-8")
    code, _, err = run(str(site))
    assert code == 2
    assert "YAML syntax" in err


def test_a_setting_the_controller_refuses_is_an_error_finding_not_a_load_failure(
    tmp_path: Path,
) -> None:
    # The sharing page: "A minimum of 6A per Wall Connector is required"; 6 units need 36 A.
    site = tmp_path / "site.yaml"
    site.write_text(
        "circuits:\n  - {id: garage, limit_a: 80}\n"
        "networks:\n  - {id: n, circuit: garage, network_limit_a: 30}\n"
        "chargers:\n"
        + "".join(f"  - {{id: c{i}, circuit: garage, network: n, max_a: 32}}\n" for i in range(6)),
        encoding="utf-8",
    )
    code, out, _ = run(str(site), "--json")
    assert code == 1
    findings = json.loads(out)["findings"]
    assert findings == [
        {
            "rule": "SHARING-MIN-6A",
            "severity": "error",
            "message": "network 'n': 30 A is below 6 A x 6 units = 36 A",
            "source": "wall-connector-power-sharing \u00a7 Power Sharing Commissioning",
            "field": "networks[0].network_limit_a",
            "line": 4,
        }
    ]


def test_other_refused_settings_come_back_as_site_file_findings(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "circuits:\n  - {id: garage, limit_a: 80}\n"
        "chargers:\n  - {id: c1, circuit: attic, max_a: 32}\n",
        encoding="utf-8",
    )
    code, out, _ = run(str(site), "--json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["rule"] == "SITE-FILE"
    assert finding["field"] == "chargers[0].circuit"
    assert finding["line"] == 4


def test_docs_design_checks_md_is_generated_from_the_rules() -> None:
    assert (DOCS / "design-checks.md").read_text(encoding="utf-8") == rules_markdown(), (
        "regenerate: python -m panelpilot.cli.rules_doc > docs/design-checks.md"
    )


def test_html_report_has_a_diagram_of_the_site_and_the_findings(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _, _ = run(str(EXAMPLES / "pw3-bad-design.yaml"), "--html", str(out))
    assert code == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<svg" in page and "</svg>" in page
    # one box per node: utility, Backup Switch, 3 circuits, 7 chargers
    assert page.count("<rect") == 1 + 1 + 3 + 7
    assert "Backup Switch" in page
    assert "PW3-COUNT" in page
    assert "&#x27;main-panel&#x27;" in page  # messages are escaped


def test_html_diagram_of_a_site_without_installation(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _, _ = run(str(EXAMPLES / "leader-network.yaml"), "--html", str(out))
    assert code == 0
    page = out.read_text(encoding="utf-8")
    # utility, service, EV panel, 4 branches, 4 chargers
    assert page.count("<rect") == 1 + 1 + 1 + 4 + 4


def test_a_panel_limit_out_of_range_is_an_error_finding_not_a_load_failure(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "circuits:\n  - {id: main, limit_a: 160, busbar_a: 200, meter: site}\n"
        "pcs:\n  panel: main\n  panel_limit_a: 250\n",
        encoding="utf-8",
    )
    code, out, _ = run(str(site), "--json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["rule"] == "PANEL-LIMIT-RANGE"
    assert finding["message"] == "pcs: Panel Limit 250 A is outside 10..200 A"
    assert finding["line"] == 5


def test_an_out_of_range_panel_limit_with_another_type_error_is_still_exit_2(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "circuits:\n  - {id: main, limit_a: lots}\npcs:\n  panel: main\n  panel_limit_a: 250\n",
        encoding="utf-8",
    )
    code, _, err = run(str(site))
    assert code == 2
    assert "circuits[0].limit_a" in err


def test_an_unwritable_html_path_exits_2_without_a_traceback(tmp_path: Path) -> None:
    code, _, err = run(str(EXAMPLES / "pw3-home.yaml"), "--html", str(tmp_path / "no" / "x.html"))
    assert code == 2
    assert "cannot write the HTML report" in err


def _gateway_site(tmp_path: Path, rating: float | None, loads: float) -> Path:
    text = (EXAMPLES / "pw3-home.yaml").read_text(encoding="utf-8")
    assert "    rating_a: 200\n" in text and "    downstream_loads_a: 180\n" in text
    service = f"    rating_a: {rating:g}\n" if rating is not None else ""
    text = text.replace("    rating_a: 200\n", service, 1)
    text = text.replace("    downstream_loads_a: 180\n", f"    downstream_loads_a: {loads:g}\n")
    site = tmp_path / "site.yaml"
    site.write_text(text, encoding="utf-8")
    return site


@pytest.mark.parametrize(
    ("rating", "loads", "exit_code"),
    [(400, 150, 1), (200, 150, 0), (None, 150, 0), (None, 250, 1)],
)
def test_a_gateway_on_a_service_above_200_a_fails_check_with_exit_1(
    tmp_path: Path, rating: float | None, loads: float, exit_code: int
) -> None:
    code, out, err = run(str(_gateway_site(tmp_path, rating, loads)), "--json")
    assert code == exit_code, err
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert rules == (["TIE-GATEWAY-SERVICE"] if exit_code else [])
