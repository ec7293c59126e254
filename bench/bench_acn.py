"""panelpilot against ACN-Sim (issue 14): energy, violations, peak, fairness, time per decision.

Needs the optional extra: `pip install -e '.[acn]'` (acnportal 0.3.3, scipy). Run

    .venv/bin/python -m bench.bench_acn [--seed 14] [--out bench-acn.md]
        [--scenarios workplace garage tight-garage] [--batteries two-stage ideal]
        [--algorithms panelpilot roundrobin edf llf ... optimum]
        [--control rotation_s=300 probe_s=120]   (panelpilot's settings, to measure them)
        [--period-min 0.25]   (shorter ACN periods for every algorithm)

It prints the table and writes it as markdown (docs/performance.md, "Against ACN-Sim").
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.acn.events import SPECS, EventSet, generate
from bench.acn.runner import ALGORITHMS, BATTERIES, DEFAULT_ALGORITHMS, Result, simulate
from bench.acn.site import site_for
from panelpilot.site import SiteFileError

NAMES = {
    "panelpilot": "panelpilot",
    "panelpilot-needs": "panelpilot with needs",
    "roundrobin": "RoundRobin",
    "edf": "EDF",
    "llf": "LLF",
    "roundrobin-rampdown": "RoundRobin + rampdown",
    "edf-rampdown": "EDF + rampdown",
    "llf-rampdown": "LLF + rampdown",
    "optimum": "offline optimum (LP)",
}
HEAD = (
    "| scenario | batteries | algorithm | energy % | violations | max A over | peak A "
    "| Jain | µs/decision | µs/period |"
)
RULE = "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
CAUSES_HEAD = (
    "| scenario | batteries | algorithm | decisions | raise waits | A·min waiting | paused "
    "| probes | deferred probes | A·min held by idle cars |"
)
CAUSES_RULE = "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"


def row(events: EventSet, battery: str, algorithm: str, r: Result) -> str:
    """One markdown row of the main table."""
    m = r.metrics
    if m.decision_us is not None:
        timing = f"{m.decision_us:.0f} | {r.period_us or 0.0:.0f}"
    else:
        timing = f"(one solve: {r.solve_s or 0.0:.2f} s) | -"
    return (
        f"| {events.name} | {battery} | {NAMES[algorithm]} | {m.energy_pct:.1f} "
        f"| {m.violations} | {m.max_over_a:.1f} | {m.peak_a:.1f} | {m.jain:.3f} | {timing} |"
    )


def causes_row(events: EventSet, battery: str, algorithm: str, r: Result) -> str:
    """panelpilot's counted causes (issue 14), one markdown row."""
    c = r.counters
    assert c is not None
    minutes = events.period_min
    return (
        f"| {events.name} | {battery} | {NAMES[algorithm]} | {len(c.decide_ns)} | {c.raise_waits} "
        f"| {c.raise_wait_a * minutes:.0f} | {c.paused} | {c.probes} | {c.probes_deferred} "
        f"| {c.idle_held_a * minutes:.0f} |"
    )


def describe(events: EventSet, seed: int) -> str:
    """One line about an event set."""
    requested = sum(s.energy_kwh for s in events.sessions)
    return (
        f"* {events.name}: {len(events.stations)} EVSEs on {events.limit_a:g} A, "
        f"{len(events.sessions)} sessions ({events.dropped} arrivals found every EVSE taken), "
        f"{requested:.0f} kWh requested, {events.horizon()} periods of "
        f"{events.period_min:g} min, seed {seed}"
    )


def setting(text: str) -> tuple[str, float]:
    """One `--control` item: KEY=NUMBER."""
    key, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not sep or not key or number != number:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=NUMBER, e.g. rotation_s=300")
    return key, number


def period(text: str) -> float:
    """`--period-min`: a whole number of seconds, at least the cadence's follow-up cycles."""
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    seconds = minutes * 60.0
    if not (seconds >= 15.0 and abs(seconds - round(seconds)) < 1e-9):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a period is a whole number of seconds, at least 15 s (0.25 min)"
        )
    return minutes


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--scenarios", nargs="+", choices=sorted(SPECS), default=list(SPECS))
    p.add_argument("--batteries", nargs="+", choices=BATTERIES, default=list(BATTERIES))
    p.add_argument(
        "--algorithms",
        nargs="+",
        choices=[*ALGORITHMS, "optimum"],
        default=list(DEFAULT_ALGORITHMS),
    )
    p.add_argument(
        "--control",
        nargs="+",
        type=setting,
        default=[],
        metavar="KEY=VALUE",
        help="panelpilot's control settings overridden, e.g. rotation_s=300 probe_s=120",
    )
    p.add_argument(
        "--period-min",
        type=period,
        default=1.0,
        help="the ACN period in minutes (every algorithm decides once a period; default 1)",
    )
    p.add_argument("--out", type=Path, default=None, help="write the tables as markdown here")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario x battery x algorithm; print and write the tables."""
    args = parse(sys.argv[1:] if argv is None else argv)
    control = dict(args.control)
    try:
        site_for(generate(SPECS[args.scenarios[0]], args.seed, period_min=args.period_min), control)
    except SiteFileError as e:
        for problem in e.problems:
            print(f"--control: {problem.field}: {problem.message}", file=sys.stderr)
        return 2
    lines = [HEAD, RULE]
    causes = [CAUSES_HEAD, CAUSES_RULE]
    about: list[str] = []
    print(HEAD, RULE, sep="\n", flush=True)
    for name in args.scenarios:
        events = generate(SPECS[name], args.seed, period_min=args.period_min)
        about.append(describe(events, args.seed))
        for battery in args.batteries:
            for algorithm in args.algorithms:
                r = simulate(events, battery, algorithm, control)
                lines.append(row(events, battery, algorithm, r))
                print(lines[-1], flush=True)
                if r.counters is not None:
                    causes.append(causes_row(events, battery, algorithm, r))
    text = "\n".join(
        [
            f"Python {platform.python_version()}, {platform.machine()}, seed {args.seed}, "
            f"panelpilot control overrides: {control or 'none'}",
            "",
            *about,
            "",
            *lines,
            "",
            "panelpilot's charger-periods (issue 14's causes):",
            "",
            *causes,
            "",
        ]
    )
    print("\n" + "\n".join(causes))
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
