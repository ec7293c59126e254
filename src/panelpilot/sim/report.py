"""The side-by-side table of a simulation, rows declared as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from panelpilot.sim.runner import SimReport


@dataclass(frozen=True)
class Row:
    """One metric row: its key in the JSON, its label, its unit and how many decimals."""

    key: str
    label: str
    unit: str
    decimals: int


ROWS: tuple[Row, ...] = (
    Row("energy_delivered_kwh", "energy delivered", "kWh", 1),
    Row("energy_unmet_kwh", "energy unmet", "kWh", 1),
    Row("breaker_trips", "breaker trips", "", 0),
    Row("overload_amp_s", "overload", "A·s", 1),
    Row("peak_overload_a", "peak overload", "A", 1),
    Row("seconds_over_limit", "time over a limit", "s", 0),
    Row("longest_overload_s", "longest overload", "s", 0),
    Row("jain_fairness", "fairness (Jain)", "", 3),
    Row("solar_curtailed_kwh", "solar curtailed", "kWh", 2),
    Row("panel_limit_amp_s", "over Panel Limit", "A·s", 1),
    Row("conductor_limit_amp_s", "over Conductor Limit", "A·s", 1),
    Row("export_limit_amp_s", "over export limit", "A·s", 1),
)


def _cell(value: Any, decimals: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):,.{decimals}f}"


def render_table(report: SimReport, console: Console) -> None:
    """Print the metrics of every controller side by side, then per-circuit overloads."""
    data = report.as_json()
    scenario = data["scenario"]
    controllers: dict[str, dict[str, Any]] = data["controllers"]
    title = (
        f"{scenario['name']} — {scenario['duration_s'] / 3600:g} h at {scenario['step_s']:g} s, "
        f"{scenario['chargers']} chargers, {scenario['cars']} cars, seed {scenario['seed']}"
    )
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("unit")
    for name in controllers:
        table.add_column(name, justify="right")
    for row in ROWS:
        table.add_row(
            row.label,
            row.unit,
            *(_cell(m.get(row.key), row.decimals) for m in controllers.values()),
        )
    first = next(iter(controllers.values()), None)
    if first is not None:
        for section, kind in (("circuits", "circuit"), ("networks", "network")):
            for item_id, figures in first[section].items():
                table.add_row(
                    f"peak, {kind} {item_id}",
                    f"A of {figures['limit_a']:g}",
                    *(_cell(m[section][item_id]["peak_a"], 1) for m in controllers.values()),
                )
    console.print(table)
    for name, m in controllers.items():
        for trip in m["trips"]:
            console.print(
                f"[bold red]{name}[/]: breaker of {trip['circuit']} tripped at {trip['t_s']:g} s"
            )
