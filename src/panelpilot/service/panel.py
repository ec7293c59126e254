"""The Panel Limit's panel current as the read models show it (`views.PanelView`).

The same sum the Panel Limit acts on (seeds/panel-limit.txt): the panel meter's current,
negative counted as 0, plus the output of every solar inverter and battery below the panel,
each at its rated output while it does not report (`control/pcs_caps.py` counts them).
"""

from __future__ import annotations

from panelpilot.control.pcs_caps import battery_output_a, solar_output_a
from panelpilot.control.topology import Topology
from panelpilot.control.types import Snapshot
from panelpilot.service.views import PanelView
from panelpilot.site.model import Site


def panel_view(site: Site, topology: Topology, snapshot: Snapshot | None) -> PanelView:
    """The panel current of the last cycle's readings (None before one, or meter lost)."""
    pcs = site.pcs
    if pcs.panel is None or pcs.panel_limit_a is None:
        return PanelView(None, None, None)
    meter = next(c.meter for c, _ in site.all_circuits() if c.id == pcs.panel)
    site_a = snapshot.meters.get(meter) if snapshot is not None and meter else None
    if snapshot is None or site_a is None:
        return PanelView(pcs.panel, pcs.panel_limit_a, None)
    current_a = max(site_a, 0.0)
    current_a += sum(
        solar_output_a(s, snapshot) for s in site.solar if topology.within(s.circuit, pcs.panel)
    )
    current_a += sum(
        battery_output_a(b, snapshot)
        for b in site.batteries
        if topology.within(b.circuit, pcs.panel)
    )
    return PanelView(pcs.panel, pcs.panel_limit_a, current_a)
