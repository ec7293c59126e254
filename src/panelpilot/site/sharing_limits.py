"""What a network limit and the fallback limits may be, against the circuit tree.

The site file's checks (`rules.py`) and the settings lock (`control/settings.py`) apply the same
arithmetic, so it lives here once: the seed's fair fallback, the 6 A per unit minimum in words,
a network limit above a circuit it is fed from, and fallbacks that together would overload a
circuit with the controller gone (DESIGN 3.4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from panelpilot.field import MAX_NETWORK_SIZE
from panelpilot.site.model import Site


def fair_fallback_a(network_limit_a: float, size: int, min_a: float, max_a: float) -> float:
    """Seed "Fallback (Fair) Limit": network limit / network size, bounded to the unit, rounded
    down to 0.1 A (an OCPP limit's resolution) so the fallbacks never sum above the limit."""
    fair = min(max_a, max(min_a, network_limit_a / size))
    return max(min_a, math.floor(fair * 10 + 1e-9) / 10)


def site_fallbacks_a(site: Site) -> dict[str, float]:
    """Every charger's fallback limit as the site file sets it up."""
    out: dict[str, float] = {}
    for net in site.networks:
        members = site.network_members(net.id)
        for c in members:
            limit = net.network_limit_a
            out[c.id] = (
                c.min_a if limit is None else fair_fallback_a(limit, len(members), c.min_a, c.max_a)
            )
    for c in site.chargers:
        if c.network is None:
            out[c.id] = c.fallback_a if c.fallback_a is not None else c.min_a
    return out


def path_up(parents: Mapping[str, str | None], circuit_id: str) -> list[str]:
    """The circuit and every circuit above it, nearest first."""
    path: list[str] = []
    node: str | None = circuit_id
    while node is not None:
        path.append(node)
        node = parents.get(node)
    return path


def network_above_circuit(
    network_id: str,
    limit_a: float,
    circuit_id: str,
    parents: Mapping[str, str | None],
    circuit_limits_a: Mapping[str, float],
) -> str | None:
    """Why a network limit does not fit its circuit or a circuit above it (None: it fits)."""
    for cid in path_up(parents, circuit_id):
        if limit_a > circuit_limits_a[cid] + 1e-9:
            allowed = _tightest(parents, circuit_id, circuit_limits_a)
            return (
                f"network {network_id}: {limit_a:g} A is above the {circuit_limits_a[cid]:g} A "
                f"limit of circuit {cid}; a network limit must fit its circuit and every "
                f"circuit above it (allowed: up to {allowed})"
            )
    return None


def _tightest(
    parents: Mapping[str, str | None], circuit_id: str, limits_a: Mapping[str, float]
) -> str:
    tight = min(path_up(parents, circuit_id), key=lambda c: limits_a[c])
    return f"{limits_a[tight]:g} A, circuit {tight}"


def fallback_overloads(
    fallbacks_a: Mapping[str, float],
    charger_circuits: Mapping[str, str],
    parents: Mapping[str, str | None],
    circuit_limits_a: Mapping[str, float],
) -> list[tuple[str, str]]:
    """Circuits whose chargers' fallbacks together exceed the circuit's limit, each with the
    reason: with the controller gone every charger may run at its fallback at once."""
    below: dict[str, list[str]] = {}
    for charger_id in fallbacks_a:
        for cid in path_up(parents, charger_circuits[charger_id]):
            below.setdefault(cid, []).append(charger_id)
    out = []
    for cid, ids in below.items():
        total = sum(fallbacks_a[i] for i in ids)
        if total > circuit_limits_a[cid] + 1e-6:
            parts = " + ".join(f"{i} {fallbacks_a[i]:g}" for i in sorted(ids)[:6])
            more = f" + {len(ids) - 6} more" if len(ids) > 6 else ""
            out.append(
                (
                    cid,
                    f"the fallback limits of the chargers below circuit {cid} sum to "
                    f"{total:g} A ({parts}{more} A), above its {circuit_limits_a[cid]:g} A "
                    "limit: without the controller they could all run at their fallback at once",
                )
            )
    return out


def minimum_message(limit_a: float, mins_a: list[float]) -> str:
    """The seed's rule in words: '30 A is below 6 A x 6 chargers = 36 A'."""
    need = sum(mins_a)
    if len(set(mins_a)) == 1:
        per = f"{mins_a[0]:g} A x {len(mins_a)} chargers"
    else:
        per = "the chargers' min_a sum " + " + ".join(f"{m:g}" for m in mins_a)
    return f"{limit_a:g} A is below {per} = {need:g} A"


def network_max_size(site: Site, network_id: str) -> int:
    """The most chargers a network may hold: its `max_size`; without one the seed's six Gen 3
    Wall Connectors, or the site file's own count of members where that is more (a network
    of other chargers the file made larger)."""
    net = next(n for n in site.networks if n.id == network_id)
    if net.max_size is not None:
        return net.max_size
    return max(MAX_NETWORK_SIZE, len(site.network_members(network_id)))


def full_message(network_id: str, size: int, max_size: int) -> str:
    """Why one more charger cannot join: the seed's count in words."""
    return (
        f"network {network_id} is full: {size} / {max_size} Devices; remove a charger first, "
        "or raise the network's max_size in the site file (Gen 3 Wall Connectors: at most 6)"
    )
