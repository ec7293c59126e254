"""Fuzz the API from its OpenAPI spec (schemathesis): no 500s, and no access without a user.

Every operation of the spec gets generated requests (schemathesis strategies driven by
Hypothesis), once as a signed-in installer (with a token) and once as a stranger.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from panelpilot.web import create_app
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    Harness,
    bearer,
    harness,
    token_for,
)

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _operations(h: Harness) -> list[Any]:
    # The spec itself is for signed-in users only.
    auth = bearer(token_for(h, "olive", OWNER_PASSWORD))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(h.service), headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    return operations


def _fuzz(op: Any, check: Callable[[Any], None]) -> None:
    @given(case=op.as_strategy())
    @FUZZ
    def run(case: Any) -> None:
        check(case)

    run()


def test_no_server_errors_for_a_signed_in_installer(tmp_path: Path) -> None:
    h = harness(tmp_path)
    auth = bearer(token_for(h, "ivan", INSTALLER_PASSWORD))

    def check(case: Any) -> None:
        response = case.call(headers=auth)
        assert response.status_code < 500, (case.method, case.path, response.text)

    for op in _operations(h):
        _fuzz(op, check)


def test_no_access_and_no_writes_without_a_user(tmp_path: Path) -> None:
    h = harness(tmp_path)
    before = h.service.storage.setting_history(limit=100_000)

    def check(case: Any) -> None:
        response = case.call()
        assert response.status_code == 401, (case.method, case.path, response.status_code)

    for op in _operations(h):
        _fuzz(op, check)
    assert h.service.storage.setting_history(limit=100_000) == before
