"""The `decide` line codec on random and hostile lines: a snapshot or one `SnapshotError` line,
and whatever it lets through, the controller decides on with finite numbers only."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerReading, ChargingNeed, Controller, Snapshot, SnapshotError
from panelpilot.control.codec import (
    MAX_DEPTH,
    MAX_LINE_BYTES,
    decision_to_json,
    decode_line,
    snapshot_from_line,
    snapshot_to_json,
)
from panelpilot.site import load_site

LEADER = load_site(Path(__file__).parents[2] / "examples" / "leader-network.yaml")
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_line_error(raw: bytes) -> str:
    with pytest.raises(SnapshotError) as info:
        snapshot_from_line(raw)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300, message
    return message


def parsed(raw: bytes) -> Snapshot | SnapshotError:
    try:
        return snapshot_from_line(raw)
    except SnapshotError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 300, message
        return exc


# Numbers of every kind: ordinary ones, the bounds' neighbours, and ones no field may take.
NUMBERS = st.one_of(
    st.floats(-2e6, 2e6),
    st.integers(-(10**7), 10**7),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e6, 1e12, 1e13]),
    st.integers(10**15, 10**400),
)
CHARGERS = ("wc1", "wc2", "wc3", "wc4")
READING = st.fixed_dictionaries(
    {},
    optional={
        "online": st.booleans(),
        "connected": st.booleans(),
        "current_a": NUMBERS,
        "limit_a": NUMBERS | st.none(),
        "commitment_t": NUMBERS | st.none(),
    },
)
COMMAND = st.fixed_dictionaries(
    {"network": st.just("leader-net")},
    optional={"enabled": st.booleans(), "network_limit_a": NUMBERS},
)
SNAPSHOT = st.fixed_dictionaries(
    {"t": NUMBERS},
    optional={
        "meters": st.dictionaries(st.just("site"), NUMBERS | st.none()),
        "chargers": st.dictionaries(st.sampled_from(CHARGERS), READING),
        "commands": st.lists(COMMAND, max_size=3),
    },
)


def line(obj: Any) -> bytes:
    """A JSON line as a recorder (or an attacker) writes it: NaN and Infinity included."""
    return json.dumps(obj).encode()


@PROPERTY
@given(st.binary(max_size=400))
def test_any_bytes_are_a_snapshot_or_one_error_line(raw: bytes) -> None:
    parsed(raw)


@PROPERTY
@given(
    st.recursive(
        st.none() | st.booleans() | NUMBERS | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
    )
)
def test_any_json_value_is_a_snapshot_or_one_error_line(value: Any) -> None:
    parsed(line(value))


@PROPERTY
@given(st.lists(SNAPSHOT, min_size=1, max_size=4))
def test_whatever_the_codec_lets_through_is_decided_with_finite_numbers(
    snapshots: list[dict[str, Any]],
) -> None:
    controller = Controller(LEADER)
    for obj in snapshots:
        snap = parsed(line(obj))
        if isinstance(snap, SnapshotError):
            continue
        try:
            decision = controller.decide(snap)
        except SnapshotError as exc:
            assert "\n" not in str(exc)
            continue
        # allow_nan=False fails on any NaN or infinity anywhere in the decision.
        json.dumps(decision_to_json(decision), allow_nan=False)
        for charger in decision.chargers.values():
            assert 0.0 <= charger.limit_a <= 40.0


@PROPERTY
@given(
    st.sampled_from(["t", "meters.site", "current_a", "limit_a", "commitment_t", "limit"]),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 1e400]),
)
def test_a_non_finite_or_huge_number_is_refused_naming_its_field(where: str, value: float) -> None:
    obj: dict[str, Any] = {"t": 1.0}
    field = where
    if where == "meters.site":
        obj["meters"] = {"site": value}
    elif where in ("current_a", "limit_a", "commitment_t"):
        obj["chargers"] = {"wc1": {where: value}}
        field = f"chargers.wc1.{where}"
    elif where == "limit":
        obj["commands"] = [{"network": "leader-net", "network_limit_a": value}]
        field = "commands[0].network_limit_a"
    else:
        obj["t"] = value
    message = one_line_error(line(obj))
    assert message.startswith(f"{field}: ")
    assert "is out of range; allowed: a finite number of" in message


def test_a_command_with_a_nan_network_limit_is_refused() -> None:
    # It was accepted and the network's cap stopped working.
    raw = b'{"t": 1, "commands": [{"network": "leader-net", "network_limit_a": NaN}]}'
    assert one_line_error(raw) == (
        "commands[0].network_limit_a: NaN is out of range; "
        "allowed: a finite number of amps within +-1e6"
    )


def test_a_meter_of_1e308_is_refused_before_the_arithmetic_overflows() -> None:
    assert one_line_error(b'{"t": 1, "meters": {"site": 1e308}}') == (
        "meters.site: 1e+308 is out of range; allowed: a finite number of amps within +-1e6"
    )


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_time_of_hundreds_of_digits_is_refused(digits: int) -> None:
    message = one_line_error(b'{"t": 1' + b"0" * digits + b"}")
    assert message.startswith("t: ") and "finite number of seconds within +-1e12" in message


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'["]",' * 100_000, b'{"a":' * 50_000])
def test_deep_nesting_is_refused_at_the_depth_limit(raw: bytes) -> None:
    assert (
        one_line_error(raw)
        == f"nested deeper than {MAX_DEPTH} levels of [ and {{; a snapshot nests 4"
    )


def test_a_line_over_the_length_limit_is_refused_unparsed() -> None:
    raw = b'{"t": 1, "x": "' + b"a" * MAX_LINE_BYTES + b'"}'
    assert one_line_error(raw) == (
        "line longer than 4,194,304 bytes; a snapshot line may be at most that"
    )


def test_a_100_character_device_id_is_refused_shortly() -> None:
    raw = line({"t": 1, "chargers": {"x" * 100: {}}})
    assert one_line_error(raw) == "chargers: a key of 100 characters; ids are at most 64"


def test_bytes_that_are_not_utf8_are_named() -> None:
    assert (
        one_line_error(b'{"t": 1, "m": "\xff"}')
        == "not UTF-8 text: invalid start byte at byte 16"  # 1-based
    )


def test_decode_line_keeps_ordinary_numbers_exact() -> None:
    assert decode_line(b'{"t": 12, "x": [1.5, -3]}') == {"t": 12, "x": [1.5, -3]}


def test_the_documented_limits_are_the_codecs() -> None:
    text = (Path(__file__).parents[2] / "docs" / "formats.md").read_text()
    assert f"{MAX_LINE_BYTES / 2**20:g} MiB ({MAX_LINE_BYTES:,} bytes)" in text
    assert f"at most {MAX_DEPTH} levels of `[` and `{{`" in text
    assert "within +-1e6" in text and "within +-1e12 s" in text


# Charging needs on a charger reading (issue 14).
FINITE = st.floats(-1e6, 1e6, allow_nan=False)
NEED = st.builds(
    ChargingNeed,
    departure_t=st.none() | st.floats(-1e12, 1e12, allow_nan=False),
    energy_wh=st.none() | st.floats(0, 1e7, allow_nan=False),
    source=st.sampled_from(["ev", "owner", "default", "estimate"]),
)
CHARGER_READING = st.builds(
    ChargerReading,
    online=st.booleans(),
    connected=st.booleans(),
    current_a=st.floats(0, 1e6, allow_nan=False),
    limit_a=st.none() | st.floats(0, 1e6, allow_nan=False),
    commitment_t=st.none() | st.floats(-1e12, 1e12, allow_nan=False),
    need=st.none() | NEED,
)


@PROPERTY
@given(
    st.floats(-1e12, 1e12, allow_nan=False),
    st.dictionaries(st.sampled_from(CHARGERS), CHARGER_READING, max_size=4),
    st.dictionaries(st.just("site"), FINITE | st.none(), max_size=1),
)
def test_a_snapshot_with_needs_reads_back_equal_from_its_line(
    t: float, chargers: dict[str, ChargerReading], meters: dict[str, float | None]
) -> None:
    snap = Snapshot(t, meters, chargers)
    assert snapshot_from_line(line(snapshot_to_json(snap))) == snap


def test_a_need_is_read_with_its_fields() -> None:
    raw = line(
        {
            "t": 1,
            "chargers": {
                "wc1": {
                    "connected": True,
                    "need": {"departure_t": 27000, "energy_wh": 25000, "source": "ev"},
                },
                "wc2": {"need": {"energy_wh": 9000}},
            },
        }
    )
    snap = snapshot_from_line(raw)
    assert snap.chargers["wc1"].need == ChargingNeed(27000.0, 25000.0, "ev")
    assert snap.chargers["wc2"].need == ChargingNeed(None, 9000.0, "owner")


@pytest.mark.parametrize(
    ("need", "message"),
    [
        (
            {"energy_wh": -1},
            "chargers.wc1.need.energy_wh: -1 is not allowed; allowed: null or a number of "
            "watt-hours within 0..1e7",
        ),
        (
            {"energy_wh": "25 kWh"},
            'chargers.wc1.need.energy_wh: "25 kWh" is not allowed; allowed: null or a number '
            "of watt-hours within 0..1e7",
        ),
        (
            {"departure_t": math.inf},
            "chargers.wc1.need.departure_t: Infinity is out of range; allowed: a finite number "
            "of seconds within +-1e12",
        ),
        (
            {"source": "guess"},
            'chargers.wc1.need.source: "guess" is not allowed; allowed: ev, owner, default, '
            "estimate",
        ),
        (
            {"leaving": 7.5},
            "chargers.wc1.need.leaving: unknown field; allowed: departure_t, energy_wh, source",
        ),
        (7.5, "chargers.wc1.need: expected an object {...}, got float"),
    ],
)
def test_a_bad_need_field_is_refused_naming_it(need: Any, message: str) -> None:
    assert one_line_error(line({"t": 1, "chargers": {"wc1": {"need": need}}})) == message
