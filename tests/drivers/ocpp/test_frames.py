"""The frame reader: nesting measured before parsing, strict JSON, errors named per version."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.exceptions import FormatViolationError, ProtocolError, TypeConstraintViolationError
from ocpp.messages import Call

from panelpilot.drivers.ocpp.frames import (
    MAX_CAUSE_CHARS,
    MAX_JSON_DEPTH,
    FrameError,
    error_answer,
    exceeds_depth,
    format_violation,
    parse_frame,
)

# Text that tries to confuse a bracket counter: brackets, quotes and backslashes in strings.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\ab\n\u00e9\U0001f600'), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@given(json_values, st.integers(0, 10), st.booleans())
def test_the_depth_check_agrees_with_the_parsed_depth(
    value: Any, limit: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert exceeds_depth(text, limit) == (depth(value) > limit)


@given(st.text(alphabet=st.sampled_from('[]{}",:0123456789.eE-+ \\naNIfinty'), max_size=60))
def test_any_text_parses_as_json_does_or_is_refused_with_a_frame_error(text: str) -> None:
    try:
        value = parse_frame(text)
    except FrameError:
        return
    assert value == json.loads(text)


@given(json_values)
def test_valid_frames_parse_to_their_value(value: Any) -> None:
    frame = [2, "id", "Heartbeat", {"data": value}]
    if depth(frame) <= MAX_JSON_DEPTH:
        assert parse_frame(json.dumps(frame)) == frame


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
        '{"a":' * 40 + "1" + "}" * 40,
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[1e400]",
        "[-1e400]",
        "[" + "9" * 21 + "]",
        "[" + "9" * 5000 + "]",
        '["\\ud800"',
        "",
    ],
    ids=[
        "100k-open",
        "one-too-deep",
        "deep-objects",
        "nan",
        "inf",
        "minus-inf",
        "overflow",
        "minus-overflow",
        "21-digits",
        "5000-digits",
        "unterminated",
        "empty",
    ],
)
def test_hostile_frames_are_refused_with_one_frame_error(text: str) -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame(text)
    assert "\n" not in str(refused.value) and len(str(refused.value)) <= MAX_CAUSE_CHARS + 10


def test_nesting_at_the_limit_and_brackets_in_strings_are_fine() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_frame(at_limit) is not None
    in_string = json.dumps([2, "id", "DataTransfer", {"data": "[" * 10_000}])
    assert parse_frame(in_string)[3]["data"] == "[" * 10_000


def test_format_errors_carry_the_name_each_version_uses() -> None:
    assert format_violation("1.6", "x").code == "FormationViolation"
    assert format_violation("2.0.1", "x").code == "FormatViolation"
    schema_error = FormatViolationError(details={"cause": "bad"})
    assert error_answer("1.6", schema_error)[0] == "FormationViolation"
    assert error_answer("2.0.1", schema_error)[0] == "FormatViolation"
    assert error_answer("1.6", ProtocolError())[0] == "ProtocolError"


def test_a_call_error_does_not_echo_the_peers_payload() -> None:
    payload = {"connectorId": "A" * 50_000}
    error = TypeConstraintViolationError(
        details={"cause": "x" * 10_000, "ocpp_message": Call("1", "StatusNotification", payload)}
    )
    code, _, details = error_answer("1.6", error)
    assert code == "TypeConstraintViolation"
    assert details == {"cause": "x" * MAX_CAUSE_CHARS}
