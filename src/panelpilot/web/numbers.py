"""Strict numbers from forms and JSON: finite, in range, never coerced from text or booleans.

Python's `float()` takes "nan", "inf", "1e400" (infinity), "1_0" and " 12 "; a limit of NaN
compares false with everything and quietly switches a cap off. The pages parse with
`form_amps`, the API declares its amps as `Amps` (pydantic strict: `"10"` and `true` are
refused, and so are NaN and the infinities JSON parsers let through).
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import Field

from panelpilot.control.settings import SettingsError

MAX_AMPS = 10_000.0
MAX_FORM_CHARS = 32
# A plain decimal number: "48", "48.5", ".5", "4.8e1". No "nan", "inf", "1_0", "0x30".
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")

Amps = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_AMPS)]
PositiveAmps = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_AMPS)]


def form_amps(label: str, text: str) -> float:
    """A form field's amps: a finite decimal from 0 to `MAX_AMPS`; `SettingsError` names the
    field and what is allowed."""
    stripped = text.strip()
    shown = stripped[:MAX_FORM_CHARS]
    if len(stripped) > MAX_FORM_CHARS or _DECIMAL.fullmatch(stripped) is None:
        raise SettingsError(
            f"{label}: {shown!r} is not a number of amps (write it like 48 or 48.5)"
        )
    value = float(stripped)
    if not math.isfinite(value) or not 0 <= value <= MAX_AMPS:
        raise SettingsError(f"{label}: {shown} A is outside 0 to {MAX_AMPS:g} A")
    return value


def optional_form_amps(
    label: str, text: str, low: float = 0.0, high: float = MAX_AMPS
) -> float | None:
    """A form's amps where blank clears the setting (disables that limit), from `low` to
    `high`: "Panel Limit 250 A: allowed 10-200 A"."""
    if not text.strip():
        return None
    value = form_amps(label, text)
    if not low <= value <= high:
        raise SettingsError(f"{label} {value:g} A: allowed {low:g}-{high:g} A")
    return value


def form_int(label: str, text: str, low: int, high: int) -> int:
    """A form field's whole number from `low` to `high`; `SettingsError` says what is allowed."""
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 9:
        raise SettingsError(f"{label}: {stripped[:MAX_FORM_CHARS]!r} is not a whole number")
    value = int(stripped)
    if not low <= value <= high:
        raise SettingsError(f"{label}: {value} is outside {low} to {high}")
    return value
