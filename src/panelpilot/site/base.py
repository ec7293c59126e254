"""The base of every site-file (and scenario) model: immutable, strict about what it accepts.

Unknown fields are errors (a typo is never silently ignored). Every float is finite and within
+-`MAX_MAGNITUDE`: NaN and infinity (`.nan`, `.inf`, and `1e400`, which reads as infinity) are
refused, and so are numbers so large that sums and products of a few of them would overflow
(an integer too large for a float, 400 digits say, is refused by the float conversion itself).
Integer-only fields (a priority, a seed) keep Python's exact integers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

# Larger than any current, voltage, time or energy a site or scenario has (a billion amps,
# 31 years in seconds), and small enough that no arithmetic on a few of them overflows.
MAX_MAGNITUDE = 1e9
TOO_LARGE = "beyond +-1e9; numbers here are finite and at most 1e9 in size"


def _too_large(value: Any) -> bool:
    """Whether a validated float, or any float in a tuple of them, is beyond the bound."""
    if isinstance(value, float):
        return abs(value) > MAX_MAGNITUDE
    if isinstance(value, tuple):
        return any(_too_large(item) for item in value)
    return False


class SiteModel(BaseModel):
    """Frozen, strict about unknown fields and about the range of every float."""

    # allow_inf_nan=False: NaN and +-infinity are refused by every float field.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if _too_large(value):
            raise PydanticCustomError("number_too_large", TOO_LARGE)
        return value
