"""docs/api.md and docs/service.md tell the truth about the routes and the alert codes."""

from __future__ import annotations

from pathlib import Path

from tests.web.helpers import OWNER_PASSWORD, bearer, client_for, harness, token_for

DOCS = Path(__file__).parents[2] / "docs"


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    h = harness(tmp_path)
    spec = (
        client_for(h)
        .get("/openapi.json", headers=bearer(token_for(h, "olive", OWNER_PASSWORD)))
        .json()
    )
    text = (DOCS / "api.md").read_text()
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"| {method.upper()} | `{path}" in text, (method, path)


def test_service_alert_codes_are_documented() -> None:
    text = (DOCS / "service.md").read_text()
    for code, severity in (("driver_down", "warning"), ("cycle_overrun", "warning")):
        assert f"| `{code}` | {severity} |" in text
