"""A single-line diagram of a site as SVG, drawn from the site file (no drawing library).

The utility at the top, the site relay under it when the installation names one, then the
circuit tree (each box with its breaker, busbar and limit) and the devices on each circuit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from panelpilot.design.findings import num
from panelpilot.design.pw3_configurations import RELAY_NAMES
from panelpilot.site.model import Circuit, Site

BOX_W = 150
BOX_H = 64
GAP_X = 20
ROW_H = 110
MARGIN = 20
KIND_COLOURS = {
    "grid": "#e8eef8",
    "relay": "#fff4d6",
    "circuit": "#ffffff",
    "battery": "#e3f5e1",
    "solar": "#fff9c4",
    "charger": "#e8e0f8",
}


@dataclass
class Node:
    """A box of the diagram: up to four lines of text, its kind, its children."""

    lines: list[str]
    kind: str
    children: list[Node] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0


def _amps(label: str, value: float | None) -> list[str]:
    return [f"{label} {num(value)} A"] if value is not None else []


def _circuit_node(site: Site, circuit: Circuit) -> Node:
    lines = [circuit.id, *_amps("breaker", circuit.breaker_a), *_amps("busbar", circuit.busbar_a)]
    lines += _amps("limit", circuit.limit_a)
    node = Node(lines[:4], "circuit")
    node.children = [_circuit_node(site, child) for child in circuit.children]
    for b in site.batteries:
        if b.circuit == circuit.id:
            node.children.append(Node([b.id, "battery", f"{num(b.max_discharge_a)} A"], "battery"))
    for s in site.solar:
        if s.circuit == circuit.id:
            control = "controllable" if s.controllable else "uncontrolled"
            node.children.append(Node([s.id, "solar", f"{num(s.max_a)} A", control], "solar"))
    for c in site.chargers:
        if c.circuit == circuit.id:
            lines = [c.id, "EV charger", f"max {num(c.max_a)} A"]
            node.children.append(Node(lines + ([c.network] if c.network else []), "charger"))
    return node


def site_tree(site: Site) -> Node:
    """The diagram's tree: utility, relay (if any), circuits, devices."""
    inst = site.installation
    service = inst.service if inst else None
    grid = Node(["Utility", *_amps("service", service.rating_a if service else None)], "grid")
    if service is not None:
        grid.lines.append(f"{service.voltage} V")
    top = grid
    if inst is not None and inst.site_relay is not None:
        relay = inst.site_relay
        top = Node([RELAY_NAMES[relay.type], relay.interconnection], "relay")
        grid.children.append(top)
    top.children.extend(_circuit_node(site, root) for root in site.circuits)
    return grid


def _layout(node: Node, depth: int, next_x: list[float]) -> None:
    node.y = MARGIN + depth * ROW_H
    if not node.children:
        node.x = next_x[0]
        next_x[0] += BOX_W + GAP_X
        return
    for child in node.children:
        _layout(child, depth + 1, next_x)
    node.x = (node.children[0].x + node.children[-1].x) / 2


def _walk(node: Node) -> list[Node]:
    return [node, *(n for child in node.children for n in _walk(child))]


def render_svg(site: Site) -> str:
    """The single-line diagram of a site as an SVG document."""
    root = site_tree(site)
    _layout(root, 0, [float(MARGIN)])
    nodes = _walk(root)
    width = max(n.x for n in nodes) + BOX_W + MARGIN
    height = max(n.y for n in nodes) + BOX_H + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">'
    ]
    for node in nodes:
        for child in node.children:
            x1, y1 = node.x + BOX_W / 2, node.y + BOX_H
            x2, y2 = child.x + BOX_W / 2, child.y
            mid = (y1 + y2) / 2
            parts.append(
                f'<path d="M{x1:.0f},{y1:.0f} V{mid:.0f} H{x2:.0f} V{y2:.0f}" '
                'fill="none" stroke="#333" stroke-width="1.5"/>'
            )
    for node in nodes:
        parts.append(
            f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{KIND_COLOURS[node.kind]}" stroke="#333"/>'
        )
        for i, line in enumerate(node.lines[:4]):
            weight = ' font-weight="bold"' if i == 0 else ""
            parts.append(
                f'<text x="{node.x + BOX_W / 2:.0f}" y="{node.y + 15 + i * 14:.0f}" '
                f'text-anchor="middle"{weight}>{escape(line)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)
