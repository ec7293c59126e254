"""The `needs:` section: what a session needs when nobody says (docs/site-file.md).

```yaml
needs:
  timezone: America/Los_Angeles   # the site's clock for "07:30" (default: the host's)
  chargers:                       # every session on this charger, unless said otherwise
    wc1: {departure: "07:30", energy_kwh: 25}
  id_tags:                        # a session started with this id tag (OCPP), on any charger
    TAG1: {departure: "07:30", energy_kwh: 30}
  estimate:                       # learned from a charger's own sessions when nothing is known
    min_sessions: 3
    sessions: 20
```

A departure is a time of day: the first such time after the car was plugged in. A need from
the car (ISO 15118) or the owner comes first; then the id tag's, then the charger's, then the
estimate (the service's `needs.py` says how they combine).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from panelpilot.site.base import SiteModel

# The largest energy a session may ask for; no car battery holds more.
MAX_ENERGY_KWH = 500.0
TIME_OF_DAY = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
IdTag = Annotated[str, Field(min_length=1, max_length=36)]  # OCPP IdToken: at most 36
ChargerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def minutes_of_day(text: str) -> int:
    """Minutes after midnight of an "HH:MM" time of day; ValueError saying what is allowed."""
    match = TIME_OF_DAY.match(text)
    if match is None:
        raise ValueError("not a time of day; write HH:MM, 00:00..23:59")
    return int(match[1]) * 60 + int(match[2])


class NeedDefault(SiteModel):
    """A session's need: leaving at `departure` (HH:MM), wanting `energy_kwh`; one or both."""

    departure: str | None = Field(default=None, description='Time of day, "HH:MM" (24 h).')
    energy_kwh: Annotated[float, Field(gt=0, le=MAX_ENERGY_KWH)] | None = Field(
        default=None, description="Energy the session wants, kWh (up to 500)."
    )

    @field_validator("departure")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                minutes_of_day(value)
            except ValueError as problem:
                raise PydanticCustomError("time_of_day", str(problem)) from None
        return value

    @model_validator(mode="after")
    def _something(self) -> NeedDefault:
        if self.departure is None and self.energy_kwh is None:
            raise PydanticCustomError("need_empty", "give departure, energy_kwh or both")
        return self


class EstimateSettings(SiteModel):
    """The learned estimate: medians over a charger's last `sessions` sessions, used once it
    has at least `min_sessions`."""

    min_sessions: Annotated[int, Field(ge=1, le=1000)] = 3
    sessions: Annotated[int, Field(ge=1, le=1000)] = 20
    enabled: bool = True

    @model_validator(mode="after")
    def _enough(self) -> EstimateSettings:
        if self.min_sessions > self.sessions:
            message = (
                f"min_sessions {self.min_sessions} is above sessions {self.sessions}; "
                "the estimate would never be made"
            )
            raise PydanticCustomError("estimate_sessions", message)
        return self


class NeedsConfig(SiteModel):
    """Defaults per charger and per id tag, the timezone they are read in, the estimate."""

    timezone: str | None = Field(
        default=None, description="IANA timezone of departure times (default: the host's)."
    )
    chargers: Mapping[ChargerId, NeedDefault] = Field(default_factory=dict)
    id_tags: Mapping[IdTag, NeedDefault] = Field(default_factory=dict)
    estimate: EstimateSettings = EstimateSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                message = "not an IANA timezone (such as Europe/Paris or UTC)"
                raise PydanticCustomError("timezone", message) from None
        return value
