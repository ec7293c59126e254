"""Model layouts from pysunspec2 and the point codec."""

from __future__ import annotations

import pytest

from panelpilot.drivers.sunspec.models import (
    UnknownModelError,
    decode_point,
    encode_point,
    load_model_layout,
)


@pytest.mark.parametrize(
    ("model_id", "length"),
    [(1, 66), (201, 105), (203, 105), (701, 153), (702, 50), (704, 65), (713, 7), (124, 24)],
)
def test_model_lengths_match_the_sunspec_definitions(model_id, length):
    assert load_model_layout(model_id).length == length


def test_meter_current_points_sit_after_id_and_length():
    layout = load_model_layout(203)
    assert [layout.points[p].offset for p in ("ID", "L", "A", "AphA", "A_SF")] == [0, 1, 2, 3, 6]
    assert layout.points["A"].sf == "A_SF"


def test_unknown_model_is_reported():
    with pytest.raises(UnknownModelError):
        load_model_layout(64999)


@pytest.mark.parametrize(
    ("point", "raw", "registers"),
    [
        ("A", -12, [0xFFF4]),  # 203 A is int16
        ("A", None, [0x8000]),  # int16 not implemented
        ("A_SF", -2, [0xFFFE]),
    ],
)
def test_int16_points_round_trip(point, raw, registers):
    spec = load_model_layout(203).points[point]
    assert encode_point(spec, raw) == registers
    assert decode_point(spec, registers) == raw


def test_int32_and_unsigned_sentinels():
    layout = load_model_layout(704)
    assert encode_point(layout.points["WSet"], -5000) == [0xFFFF, 0xEC78]
    assert decode_point(layout.points["WSet"], [0xFFFF, 0xEC78]) == -5000
    assert decode_point(layout.points["WMaxLimPct"], [0xFFFF]) is None


def test_strings_decode_up_to_the_first_nul():
    spec = load_model_layout(1).points["Mn"]
    assert decode_point(spec, encode_point(spec, "panelpilot")) == "panelpilot"
