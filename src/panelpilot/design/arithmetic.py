"""The numbers of the source documents as tables, and the small sums the checker shows.

Every constant names the seed section it comes from. The functions are pure: plain numbers in,
plain numbers out, so the report can print the arithmetic beside the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from panelpilot.field import (  # the design rules' facts, one home (panelpilot.field)
    BUSBAR_FACTOR,
    CONTINUOUS_FACTOR,
    J1772_MIN_A,
    MAX_NETWORK_SIZE,
    MIN_SHARING_FIRMWARE,
    PANEL_LIMIT_DEFAULT_A,
    PANEL_LIMIT_MAX_A,
    PANEL_LIMIT_MIN_A,
)

__all__ = [
    "BUSBAR_FACTOR",
    "CONTINUOUS_FACTOR",
    "J1772_MIN_A",
    "MAX_NETWORK_SIZE",
    "MIN_SHARING_FIRMWARE",
    "PANEL_LIMIT_DEFAULT_A",
    "PANEL_LIMIT_MAX_A",
    "PANEL_LIMIT_MIN_A",
]


@dataclass(frozen=True)
class OutputOption:
    """A Powerwall 3 maximum continuous output setting and the OCPD it requires."""

    max_continuous_a: float
    output_kw: float
    breaker_a: float
    grid: str


# powerwall-3-design-considerations.txt, System Tie-in, Table 1 (Maximum Continuous Current
# Options). 48 A / 11.5 kW is the default.
ON_GRID_OPTIONS = (
    OutputOption(48.0, 11.5, 60.0, "on-grid"),
    OutputOption(41.7, 10.0, 60.0, "on-grid"),
    OutputOption(31.7, 7.6, 40.0, "on-grid"),
    OutputOption(24.0, 5.8, 30.0, "on-grid"),
)
# Table 1 footnote: 64 A / 15.4 kW off-grid, only with the 11.5 kW on-grid rating, 80 A OCPD.
OFF_GRID_BOOST = OutputOption(64.0, 15.4, 80.0, "off-grid")
OFF_GRID_BOOST_NEEDS_A = 48.0
DEFAULT_OUTPUT_A = 48.0

# Same section: fuses must be Class RK1 fast-acting, >= 250 VAC; these parts or equivalent.
RK1_FUSES: dict[float, tuple[str, ...]] = {
    80.0: ("KLNR080", "KTN-R-80", "A2K80R"),
    60.0: ("KLNR060", "KTN-R-60", "A2K60R"),
    40.0: ("KLNR040", "KTN-R-40", "A2K40R"),
    30.0: ("KLNR030", "KTN-R-30", "A2K30R"),
}

# Supported Configurations: up to 4 Powerwall 3 and up to 3 Powerwall 3 Expansion units.
MAX_PW3_UNITS = 4
MAX_PW3_EXPANSIONS = 3
# Powerwall 3 Solar: per unit, 6 MPPTs and 20 kW DC of solar input.
PW3_MPPTS = 6
PW3_MAX_DC_KW = 20.0
# System Tie-in: Backup Switch up to 200 A service with a 2S meter socket; Gateway up to 200 A
# service, or (only when the service has no rating) 200 A of downstream loads.
MAX_SERVICE_A = 200.0
BACKUP_SWITCH_SOCKET = "2S"
BACKUP_VOLTAGE = "120/240"


def option_for(max_continuous_a: float) -> OutputOption | None:
    """The Table 1 row for an on-grid output setting, or None when it is not a listed option."""
    for option in ON_GRID_OPTIONS:
        if abs(option.max_continuous_a - max_continuous_a) < 0.05:
            return option
    return None


def required_ocpd_a(max_continuous_a: float, off_grid_boost: bool) -> float | None:
    """The OCPD a Powerwall 3 needs for its output setting (80 A with the off-grid boost)."""
    if off_grid_boost:
        return OFF_GRID_BOOST.breaker_a
    option = option_for(max_continuous_a)
    return option.breaker_a if option else None


def allowed_supply_a(busbar_a: float) -> float:
    """Total supply breakers a busbar may carry by the 120 % rule: 1.2 x busbar."""
    return BUSBAR_FACTOR * busbar_a


def allowed_backfeed_breaker_a(busbar_a: float, main_breaker_a: float) -> float:
    """Backfeed breaker allowed beside the main: 1.2 x busbar - main (never below 0)."""
    return max(0.0, allowed_supply_a(busbar_a) - main_breaker_a)


def continuous_a(ocpd_a: float) -> float:
    """Continuous current of an overcurrent device: 0.8 x its rating."""
    return CONTINUOUS_FACTOR * ocpd_a


def conductor_limit_for_ocpd(ocpd_a: float) -> float:
    """The Conductor Limit that stands in for an OCPD: 0.8 x OCPD (40 A -> 32 A)."""
    return continuous_a(ocpd_a)


def suggested_panel_limit_a(busbar_a: float, controlled_ratings_a: tuple[float, ...] = ()) -> float:
    """A Panel Limit for a busbar: its continuous rating (0.8 x busbar), kept within 10..200 A
    and never above the rating of a PCS-controlled panel (200 A busbar -> 160 A, as in
    panel-limit.txt "Example" and conductor-limit.txt Example 2)."""
    value = min(continuous_a(busbar_a), PANEL_LIMIT_MAX_A, *controlled_ratings_a)
    return max(PANEL_LIMIT_MIN_A, value)


def fallback_a(network_limit_a: float, size: int, min_a: float, max_a: float) -> float:
    """A unit's fallback (fair) limit: network limit / size, bounded to the unit's range."""
    return min(max(network_limit_a / size, min_a), max_a)


def parse_version(text: str) -> tuple[int, ...] | None:
    """`"21.55.2 (0)"` -> (21, 55, 2); None when it does not start with a version number."""
    match = re.match(r"\s*(\d+(?:\.\d+)*)", text)
    if match is None:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def version_text(version: tuple[int, ...]) -> str:
    """(21, 18, 0) -> "21.18.0"."""
    return ".".join(str(part) for part in version)


@dataclass(frozen=True)
class FaultRating:
    """A fault-current rating of a site relay and the condition that earns it."""

    relay: str
    rating_ka: float
    condition: str
    needs_j_fuse: bool = False
    main_families: tuple[str, ...] = ()
    main_min_interrupting_ka: float = 0.0

    def applies(self, j_fuse: bool, family: str | None, interrupting_ka: float | None) -> bool:
        """True when the installation meets this rating's condition."""
        if self.needs_j_fuse and not j_fuse:
            return False
        if self.main_families and family not in self.main_families:
            return False
        return not self.main_min_interrupting_ka or (
            interrupting_ka is not None and interrupting_ka >= self.main_min_interrupting_ka
        )


# powerwall-3-design-considerations.txt, System Tie-in (fault current): Powerwall, Backup
# Gateway and Backup Switch are rated 10 kA; a J-class fuse upstream makes Backup Gateway 2
# 22 kA; Backup Switch is 22 kA with a main breaker of at least 22 kA; Gateway 3 is 25 kA with
# an Eaton CSR or BWH main breaker, 22 kA with a Square D QO main breaker.
BASE_FAULT_KA = 10.0
FAULT_RATINGS = (
    FaultRating("backup-gateway-2", BASE_FAULT_KA, "base rating"),
    FaultRating("backup-gateway-2", 22.0, "with a J-class fuse upstream", needs_j_fuse=True),
    FaultRating("backup-switch", BASE_FAULT_KA, "base rating"),
    FaultRating(
        "backup-switch", 22.0, "with a main breaker of 22 kA or more", main_min_interrupting_ka=22
    ),
    FaultRating("gateway-3", BASE_FAULT_KA, "base rating"),
    FaultRating(
        "gateway-3",
        25.0,
        "with an Eaton CSR or BWH main breaker",
        main_families=("eaton-csr", "eaton-bwh"),
    ),
    FaultRating(
        "gateway-3", 22.0, "with a Square D QO main breaker", main_families=("square-d-qo",)
    ),
)


def fault_rating(
    relay: str, j_fuse: bool, family: str | None, interrupting_ka: float | None
) -> FaultRating:
    """The highest fault-current rating the relay earns in this installation (10 kA base)."""
    earned = [
        r for r in FAULT_RATINGS if r.relay == relay and r.applies(j_fuse, family, interrupting_ka)
    ]
    if not earned:
        return FaultRating(relay, BASE_FAULT_KA, "base rating of Powerwall")
    return max(earned, key=lambda r: r.rating_ka)
