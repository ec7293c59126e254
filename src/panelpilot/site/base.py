"""The base of every site-file model: immutable, and unknown fields are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SiteModel(BaseModel):
    """Frozen, strict about unknown fields (a typo is an error, never silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
