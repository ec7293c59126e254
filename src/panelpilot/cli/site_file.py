"""`panelpilot schema` and `panelpilot validate`: the site file's JSON Schema, and whether a
file loads (its problems, one line each, come from the error boundary in `cli/__init__.py`)."""

from __future__ import annotations

import json

from panelpilot.cli.inputs import SitePath
from panelpilot.site import load_site, site_schema


def schema() -> None:
    """Print the JSON Schema of the site file."""
    print(json.dumps(site_schema(), indent=2))


def validate(site: SitePath) -> None:
    """Check that a site file loads; print a one-line summary."""
    loaded = load_site(site)
    print(
        f"{site}: ok: {loaded.name!r}, {sum(1 for _ in loaded.all_circuits())} circuits, "
        f"{len(loaded.networks)} networks, {len(loaded.chargers)} chargers, "
        f"{len(loaded.batteries)} batteries, {len(loaded.solar)} solar"
    )
