"""The site loader on random and hostile input: a `Site` or `SiteFileError`, one line each."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.site import Site, SiteFileError, load_site, load_site_text
from panelpilot.site.base import MAX_MAGNITUDE
from panelpilot.site.loader import field_name, plain_yaml, yaml_document
from tests.site.strategies import (
    bad_numbers,
    get,
    hostile_text,
    leaf_paths,
    replaced,
    to_yaml,
    wrong_values,
)

EXAMPLES = Path(__file__).parents[2] / "examples"
SEED_SITE = plain_yaml(
    yaml_document((EXAMPLES / "leader-network.yaml").read_text(), "leader-network.yaml")
)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(load: Any) -> Site | SiteFileError:
    """What loading gave: a site, or the error whose every problem is one located line."""
    try:
        return load()  # type: ignore[no-any-return]
    except SiteFileError as exc:
        assert exc.problems
        for problem in exc.problems:
            text = str(problem)
            assert "\n" not in text and len(text) < 400, text
        return exc


@PROPERTY
@given(hostile_text())
def test_any_text_is_a_site_or_one_located_line_per_problem(text: str) -> None:
    result = outcome(lambda: load_site_text(text, "site.yaml"))
    if isinstance(result, SiteFileError):
        assert all(str(p).startswith("site.yaml") for p in result.problems)


@PROPERTY
@given(st.binary(max_size=300))
def test_any_bytes_in_a_file_are_a_site_or_one_line_per_problem(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.yaml"
        path.write_bytes(raw)
        outcome(lambda: load_site(path))


def _numeric_leaves() -> list[tuple[str | int, ...]]:
    return [
        p
        for p in leaf_paths(SEED_SITE)
        if isinstance(get(SEED_SITE, p), int | float) and not isinstance(get(SEED_SITE, p), bool)
    ]


@PROPERTY
@given(st.sampled_from(_numeric_leaves()), bad_numbers())
def test_a_bad_number_in_any_numeric_field_is_refused_naming_that_field(
    path: tuple[str | int, ...], value: float
) -> None:
    text = to_yaml(replaced(SEED_SITE, path, value))
    result = outcome(lambda: load_site_text(text, "site.yaml"))
    if isinstance(value, float) and math.isfinite(value) and abs(value) <= MAX_MAGNITUDE:
        return  # a number within range, perhaps too large for the field's own range
    # Integer-only fields (a priority) keep exact integers; every float field refuses.
    if isinstance(result, Site):
        assert isinstance(value, int) and path[-1] == "priority", (path, value)
        return
    assert any(p.field == field_name(path) for p in result.problems), (path, result)


@PROPERTY
@given(st.sampled_from(leaf_paths(SEED_SITE)), wrong_values())
def test_any_value_in_any_field_is_a_site_or_located_problems(
    path: tuple[str | int, ...], value: Any
) -> None:
    text = to_yaml(replaced(SEED_SITE, path, value))
    outcome(lambda: load_site_text(text, "site.yaml"))
