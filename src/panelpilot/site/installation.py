"""The `installation:` section: what the design checker needs to know about the hardware.

Optional in a site file; `panelpilot check` uses it (see docs/site-file.md).
"""

from __future__ import annotations

from panelpilot.site.base import SiteModel


class Installation(SiteModel):
    """Installation details for design checks (filled in by the design checker's work)."""
