"""`panelpilot decide`: replay recorded snapshots through one controller (JSON lines or a table).

Snapshots are read as they come, so a pipe from a live site works; a line is never read whole
into memory beyond `MAX_LINE_BYTES`. A bad line ends the replay with its file and line number.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.table import Table

from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import SitePath
from panelpilot.cli.progress import Advance, Quiet, progress_bars
from panelpilot.control import Controller, Decision, Snapshot, SnapshotError
from panelpilot.control.codec import MAX_LINE_BYTES, decision_to_json, snapshot_from_line
from panelpilot.site import Site, load_site


def _bounded_lines(handle: BinaryIO, name: str) -> Iterator[bytes]:
    """Lines of at most `MAX_LINE_BYTES` (a longer one is never read whole into memory)."""
    number = 0
    while True:
        try:
            raw = handle.readline(MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise fail(f"{name}: cannot read: {exc.strerror or exc}") from None
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise fail(
                f"{name}:{number}: line longer than {MAX_LINE_BYTES:,} bytes; "
                "a snapshot line may be at most that"
            )
        yield raw


def _size(states: str) -> float | None:
    """The size of a regular snapshot file in bytes, for the bar (None: a pipe or stdin)."""
    path = Path(states)
    try:
        return float(path.stat().st_size) if states != "-" and path.is_file() else None
    except OSError:
        return None


def _snapshot_lines(states: str) -> tuple[str, Iterator[bytes]]:
    """Lines of the snapshot file, read as they come (a pipe from a live site works)."""
    if states == "-":
        return "<stdin>", _bounded_lines(sys.stdin.buffer, "<stdin>")
    try:
        handle = Path(states).open("rb")  # noqa: SIM115 - closed when exhausted
    except FileNotFoundError:
        raise fail(f"{states}: no such file") from None
    except OSError as exc:
        raise fail(f"{states}: cannot read: {exc.strerror or exc}") from None

    def lines() -> Iterator[bytes]:
        with handle:
            yield from _bounded_lines(handle, states)

    return states, lines()


_STATUS_MARK = {"charging": "", "limited": " L", "idle": " -", "paused": " P", "unresponsive": " ?"}


def _table(site: Site, decisions: list[tuple[Snapshot, Decision]]) -> Table:
    table = Table(title=f"{site.name}: one row per snapshot", title_justify="left")
    table.add_column("t s", justify="right")
    meters = sorted(site.meter_ids())
    for m in meters:
        table.add_column(f"{m} A", justify="right")
    for c in site.chargers:
        table.add_column(f"{c.id}\nA (drawn)", justify="right")
    for n in site.networks:
        table.add_column(f"{n.id}\nA / limit", justify="right")
    for b in site.batteries:
        table.add_column(f"{b.id}\nmax dis A", justify="right")
    for s in site.solar:
        table.add_column(f"{s.id}\nmax A", justify="right")
    table.add_column("alerts")
    for snap, d in decisions:
        table.add_row(*_row(site, meters, snap, d))
    table.caption = "L limited  P paused  - idle  ? unresponsive  (drawn A)"
    return table


def _row(site: Site, meters: list[str], snap: Snapshot, d: Decision) -> list[str]:
    row = [f"{d.t:g}"]
    for m in meters:
        v = snap.meters.get(m)
        row.append("lost" if v is None else f"{v:.1f}")
    for c in site.chargers:
        cd, r = d.chargers[c.id], snap.chargers.get(c.id)
        drawn = f"({r.current_a:.0f})" if r is not None and r.online else ""
        row.append(f"{cd.limit_a:g}{_STATUS_MARK[cd.status.value]} {drawn}")
    for n in site.networks:
        ns = d.networks[n.id]
        row.append(f"{ns.current_a:.1f} / {ns.limit_a:g}")
    row += [f"{d.batteries[b.id].max_discharge_a:g}" for b in site.batteries]
    row += [f"{d.solar[s.id].max_a:g}" for s in site.solar]
    row.append(", ".join(sorted({a.code for a in d.alerts})))
    return row


def _replay(
    site: Site, name: str, lines: Iterator[bytes], table: bool, advance: Advance, size: float | None
) -> list[tuple[Snapshot, Decision]]:
    """Every snapshot through one controller: JSON lines printed as they come, or the rows."""
    controller = Controller(site)
    rows: list[tuple[Snapshot, Decision]] = []
    read = 0.0
    for number, raw in enumerate(lines, start=1):
        read += len(raw)
        advance(read if size is not None else number, size)
        if not raw.strip():
            continue
        try:
            snap = snapshot_from_line(raw)
            decision = controller.decide(snap)
        except SnapshotError as exc:  # named here with its line; the boundary has no line
            raise fail(f"{name}:{number}: {exc}") from None
        if table:
            rows.append((snap, decision))
        else:
            print(json.dumps(decision_to_json(decision)), flush=True)
    return rows


def decide(
    site: SitePath,
    states: Annotated[
        str,
        typer.Argument(help="JSON-lines file of snapshots, or - for stdin.", show_default=False),
    ],
    table: Annotated[
        bool, typer.Option("--table", help="Print a readable table instead of JSON lines.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Replay snapshots through one controller; print one decision per line."""
    loaded = load_site(site)
    name, lines = _snapshot_lines(states)
    size = _size(states)
    # Decisions streaming to the terminal are their own progress; a bar would garble them.
    quiet = quiet or (not table and sys.stdout.isatty())
    with progress_bars(quiet) as bars:
        advance = bars.task("snapshots", total=size)
        rows = _replay(loaded, name, lines, table, advance, size)
    if table:
        rendered = _table(loaded, rows)
        console = Console()
        # Wide enough for every column when printing to a file or a pipe.
        console.width = max(console.width, 12 * len(rendered.columns) + 24)
        console.print(rendered)
