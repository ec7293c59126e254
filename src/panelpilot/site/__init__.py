"""The site layer: the site model, the site file loader with located errors, the JSON Schema."""

from panelpilot.site.errors import Problem, SiteFileError
from panelpilot.site.loader import load_site, load_site_text, parse_site, site_schema
from panelpilot.site.model import (
    Battery,
    Charger,
    Circuit,
    ControlSettings,
    Network,
    Pcs,
    Site,
    Solar,
)

__all__ = [
    "Battery",
    "Charger",
    "Circuit",
    "ControlSettings",
    "Network",
    "Pcs",
    "Problem",
    "Site",
    "SiteFileError",
    "Solar",
    "load_site",
    "load_site_text",
    "parse_site",
    "site_schema",
]
