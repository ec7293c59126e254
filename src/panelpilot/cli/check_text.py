"""`panelpilot check`'s report on the terminal: findings grouped by severity (rich), the
computed numbers with their arithmetic, a verdict; or the `--json` object."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from panelpilot.design.checker import Report
from panelpilot.design.computed import Json
from panelpilot.design.findings import SEVERITY_ORDER, Severity, num

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}


def render_json(report: Report) -> str:
    """The `--json` form: one object with `findings` and `computed`."""
    return json.dumps(report.as_dict(), indent=2)


def _findings_table(report: Report, severity: Severity) -> Table | None:
    rows = [f for f in report.findings if f.severity is severity]
    if not rows:
        return None
    table = Table(
        title=f"{TITLES[severity]} ({len(rows)})",
        title_style=STYLES[severity],
        title_justify="left",
        show_lines=True,
        expand=True,
    )
    table.add_column("rule", style=STYLES[severity], no_wrap=True)
    table.add_column("finding", ratio=3)
    table.add_column("where", no_wrap=True)
    table.add_column("source", width=34, overflow="fold")
    for f in rows:
        where = f"line {f.line}" if f.line is not None else ""
        table.add_row(f.rule, f.message, where, f.source)
    return table


def _list(value: object) -> list[Json]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def computed_lines(computed: Json) -> list[str]:
    """The helpful numbers, one line each, with their arithmetic."""
    lines: list[str] = []
    for p in _list(computed.get("panels")):
        lines.append(
            f"panel {p['id']}: allowed backfeed {p['backfeed_arithmetic']}; "
            f"suggested Panel Limit {num(float(str(p['suggested_panel_limit_a'])))} A "
            f"({p['panel_limit_arithmetic']})"
        )
        if p["passes_120_percent"] is not None:
            verdict = "within" if p["passes_120_percent"] else "OVER"
            pcs = "; controlled sources left to the Panel Limit (705.13)"
            lines.append(
                f"panel {p['id']}: 120 % rule {verdict}: {p['supply_arithmetic']}"
                + (pcs if p["covered_by_panel_limit"] else "")
            )
    for b in _list(computed.get("batteries")):
        kw = f" ({num(float(str(b['output_kw'])))} kW)" if b["output_kw"] is not None else ""
        mode = " off-grid boost 64 A" if b["off_grid_boost"] else ""
        need = b["required_ocpd_a"]
        have = b["ocpd_a"]
        lines.append(
            f"Powerwall 3 #{b['unit']}: {num(float(str(b['max_continuous_a'])))} A{kw}{mode} "
            f"-> OCPD {num(float(str(need))) + ' A' if need is not None else 'not in Table 1'}"
            f"; installed {num(float(str(have))) + ' A' if have is not None else 'none'}"
        )
    options = ", ".join(
        f"{num(float(str(o['max_continuous_a'])))} A -> {num(float(str(o['breaker_a'])))} A"
        + (" (off-grid)" if o["grid"] == "off-grid" else "")
        for o in _list(computed.get("output_options"))
    )
    if computed.get("batteries"):
        lines.append(f"Table 1 breakers: {options}")
    cond = computed.get("conductor")
    if isinstance(cond, dict):
        set_a = cond["set_a"]
        shown = f"{num(float(str(set_a)))} A" if set_a is not None else "not set"
        lines.append(f"Conductor Limit for the OCPD: {cond['arithmetic']} (set: {shown})")
    fault = computed.get("fault_current")
    if isinstance(fault, dict):
        avail = fault["available_ka"]
        shown = f"{num(float(str(avail)))} kA" if avail is not None else "unknown"
        lines.append(
            f"fault current: {fault['relay']} {fault['condition']}: "
            f"{num(float(str(fault['rating_ka'])))} kA rating; available {shown}"
        )
    for n in _list(computed.get("networks")):
        fallback = n["fallback_arithmetic"] or "no network limit"
        lines.append(
            f"network {n['id']}: {n['size']} units, minimum limit "
            f"{num(float(str(n['minimum_limit_a'])))} A; fallback {fallback}"
        )
    return lines


def render_text(report: Report, console: Console) -> None:
    """Print the report: findings by severity, then the computed values, then a summary."""
    console.print(f"[bold]panelpilot check[/bold]: {report.site_name}")
    for severity in SEVERITY_ORDER:
        table = _findings_table(report, severity)
        if table is not None:
            console.print(table)
    lines = computed_lines(report.computed)
    if lines:
        console.print("[bold]Computed[/bold]")
        for line in lines:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    counts = ", ".join(f"{report.count(s)} {TITLES[s].lower()}" for s in SEVERITY_ORDER)
    verdict = "[bold red]FAIL[/bold red]" if report.has_errors else "[bold green]PASS[/bold green]"
    console.print(f"{verdict}: {counts}")
