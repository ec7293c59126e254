"""docs/api.md and docs/service.md tell the truth about the routes and the alert codes."""

from __future__ import annotations

from pathlib import Path

from tests.web.helpers import client_for, harness

DOCS = Path(__file__).parents[2] / "docs"


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    spec = client_for(harness(tmp_path)).get("/openapi.json").json()
    text = (DOCS / "api.md").read_text()
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"| {method.upper()} | `{path}" in text, (method, path)


def test_service_alert_codes_are_documented() -> None:
    text = (DOCS / "service.md").read_text()
    for code, severity in (("driver_down", "warning"), ("cycle_overrun", "warning")):
        assert f"| `{code}` | {severity} |" in text
