"""Load benchmark (not a test): N simulated charge points on loopback, one central system.

Measures the time from a network-limit change (a settings command fed to the real controller)
to every charger having acknowledged its new lease profile over its own websocket, plus the
time to connect the fleet and the process memory. Charge points, central system and
controller all run in this one process on 127.0.0.1, so the numbers include both sides.

    .venv/bin/python bench/bench_ocpp_load.py --chargers 500 --rounds 5

Lowering the limit is measured because that is the direction where speed matters (a raise is
deliberately paced by the controller's safe transitions).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from panelpilot.control.controller import Controller
from panelpilot.control.types import Command, Snapshot
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore, OcppChargerDriver
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint, start_fleet, stop_fleet
from panelpilot.service.database import sqlite_url
from panelpilot.service.storage import Storage
from panelpilot.site import Site, load_site_text
from panelpilot.site.drivers import OcppDriverConfig

PASSWORD = "bench-password-0123456789"
MAX_A = 32.0
T0 = 1_798_761_600.0  # simulated wall clock: leases never lapse while we measure


class Clock:
    """Simulated wall-clock seconds, advanced one control period per cycle."""

    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def garage(n: int, limit_a: float) -> Site:
    """One power sharing network of `n` chargers (a large garage)."""
    chargers = "".join(
        f"  - {{id: wc{i}, circuit: garage, network: net, max_a: {MAX_A:g}}}\n" for i in range(n)
    )
    drivers = "".join(
        f"  - {{kind: ocpp, device: wc{i}, charge_point_id: cp{i}}}\n" for i in range(n)
    )
    return load_site_text(
        f"circuits:\n  - {{id: garage, limit_a: {n * MAX_A:g}}}\n"
        f"networks:\n  - {{id: net, circuit: garage, network_limit_a: {limit_a:g}}}\n"
        f"chargers:\n{chargers}drivers:\n{drivers}"
    )


def rss_mib() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def limit_change(limit_a: float) -> tuple[Command, ...]:
    """The settings lock: disable, set, enable (DESIGN.md section 3, rule 6)."""
    return (
        Command("net", enabled=False),
        Command("net", network_limit_a=limit_a),
        Command("net", enabled=True),
    )


async def run(n: int, rounds: int, validate_sims: bool) -> None:
    limits_a = [n * MAX_A / 2 - step * n for step in range(rounds + 1)]  # 16 A, 15 A, ... each
    site = garage(n, limits_a[0])
    controller = Controller(site)
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(str(Path(tmp) / "bench.db"))
        Storage.open(url).close()  # the service's schema, its charge point table with it
        store = CredentialStore(url)
        started = time.perf_counter()
        for i in range(n):
            store.add(f"cp{i}", PASSWORD)
        register_s = time.perf_counter() - started
        rss_before = rss_mib()
        async with CentralSystem(store, clock=clock, max_connections=n + 10) as central:
            fleet_spec = [
                SimulatedChargePoint(
                    f"cp{i}",
                    PASSWORD,
                    central.url(f"cp{i}"),
                    clock=clock,
                    ev=SimEV(MAX_A),
                    validate_schemas=validate_sims,
                )
                for i in range(n)
            ]
            started = time.perf_counter()
            fleet = await start_fleet(fleet_spec, concurrency=64)
            connect_s = time.perf_counter() - started
            for cp in fleet:
                await cp.plug_in()
            max_a = {c.id: c.max_a for c in site.chargers}
            drivers = [
                OcppChargerDriver(central, d, max_a[d.device])
                for d in site.drivers
                if isinstance(d, OcppDriverConfig)
            ]

            async def cycle(commands: tuple[Command, ...] = ()) -> tuple[float, float]:
                readings = {d.device_id: await d.read() for d in drivers}
                t_start = time.perf_counter()
                decision = controller.decide(
                    Snapshot(clock(), chargers=readings, commands=commands)
                )
                t_decided = time.perf_counter()
                by_id = {d.device_id: d for d in drivers}
                await asyncio.gather(*(by_id[k].apply(v) for k, v in decision.chargers.items()))
                clock.t += site.control.period_s
                return t_decided - t_start, time.perf_counter() - t_start

            for _ in range(10):  # settle: first profiles, measured currents
                await asyncio.gather(*(cp.send_meter_values() for cp in fleet))
                await cycle()
            rss_connected = rss_mib()

            change_s, decide_s = [], []
            for limit_a in limits_a[1:]:
                before = sum(cp.profiles_received for cp in fleet)
                decided, total = await cycle(limit_change(limit_a))
                sent = sum(cp.profiles_received for cp in fleet) - before
                assert sent >= n, f"only {sent} profiles sent for {n} chargers"
                assert sum(cp.limit_a() for cp in fleet) <= limit_a
                decide_s.append(decided)
                change_s.append(total)
                print(
                    f"  limit -> {limit_a:g} A: {sent} profiles acked in {total:.3f} s", flush=True
                )
            await stop_fleet(fleet)
        store.close()

    checked = "on" if validate_sims else "off"
    print(f"charge points:           {n} (OCPP 1.6J, one process, 127.0.0.1)")
    print(f"sim schema checks:       {checked}")
    print(f"register (Argon2id):     {register_s:.1f} s")
    print(f"connect all:             {connect_s:.1f} s (handshake with Basic Auth, boot, status)")
    print(
        f"limit change -> all ack: median {statistics.median(change_s):.3f} s, "
        f"max {max(change_s):.3f} s over {len(change_s)} changes"
    )
    print(f"  of which decide():     median {statistics.median(decide_s) * 1000:.1f} ms")
    print(
        f"memory (RSS):            {rss_before:.0f} MiB before, {rss_connected:.0f} MiB connected "
        f"({(rss_connected - rss_before) * 1024 / n:.0f} KiB per charge point, both sides)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chargers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--validate-sims",
        action="store_true",
        help="let the simulated chargers check every message against the OCPP schemas too",
    )
    args = parser.parse_args()
    if args.rounds > 9 or args.chargers < 1:
        sys.exit("bench_ocpp_load: --rounds at most 9 (the limit must stay >= 6 A per charger)")
    asyncio.run(run(args.chargers, args.rounds, args.validate_sims))


if __name__ == "__main__":
    main()
