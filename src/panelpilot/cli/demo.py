"""`panelpilot demo`: the service on the built-in demo site, its devices simulated on loopback
(OCPP charge points, SunSpec twins, cars), with a one-time installer password to sign in."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from panelpilot.cli.database import lock_database
from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import Host, Port
from panelpilot.cli.mqtt_options import (
    MqttPasswordFile,
    MqttSite,
    MqttUrl,
    mqtt_options,
    publish_to,
)


def demo(
    host: Host = "127.0.0.1",
    port: Port = 8080,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file (default: a temporary one).")
    ] = None,
    mqtt: MqttUrl = None,
    mqtt_site: MqttSite = None,
    mqtt_password_file: MqttPasswordFile = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            min=0.1,
            max=20,
            help="Run the demo's time this many times faster than real time (1-20; "
            "10: ten demo minutes in one).",
        ),
    ] = 1.0,
) -> None:
    """Run the service on the built-in demo site: OCPP charge points and cars on loopback."""
    from panelpilot.service.clock import ScaledClock, SystemClock
    from panelpilot.service.demo import (
        demo_side,
        demo_site,
        prepare_demo,
        start_sunspec_twins,
        stop_sunspec_twins,
    )
    from panelpilot.service.launch import chosen_port, listen_problem, serve_until_signalled
    from panelpilot.service.service import ControlThread
    from panelpilot.web import create_app

    port = chosen_port(host, port)
    if (problem := listen_problem(host, port)) is not None:
        raise fail(problem)
    broker = mqtt_options(demo_site(), None, mqtt, mqtt_site, mqtt_password_file)
    workdir = Path(tempfile.mkdtemp(prefix="panelpilot-demo-"))
    db_path = db or workdir / "demo.db"
    lock = lock_database(f"sqlite:///{db_path}")
    clock = SystemClock() if speed == 1 else ScaledClock(speed)

    # The devices (SunSpec twins, charge points) live on the control thread's loop.
    with ControlThread().running() as control:
        twins = control.call(start_sunspec_twins(demo_site()))
        try:
            ports = {device: server.port for device, (_, server) in twins.items()}
            demo = prepare_demo(db_path, clock, host, ports)
            for twin, _ in twins.values():
                twin.world = demo.world
            if broker is not None:
                publish_to(demo.service, broker)
            sticker = demo.passwords["wc4"]
            print(f"panelpilot demo: {demo.service.runtime.site.name}")
            print(f"  open    http://{host}:{port}/")
            if speed != 1:
                print(f"  time runs {speed:g} x faster than real time")
            print(f"  sign in as installer, one-time password: {demo.installer_password}")
            print(f"  database {db_path}; add an owner with")
            print(f"    panelpilot users add NAME --role owner --db sqlite:///{db_path}")
            print(f"  wc4 is not in the network yet: add it with id wc4, password {sticker}")
            print(f"  (or its QR payload WIFI:T:WPA;S:wc4;P:{sticker};;)")
            print("  Ctrl-C stops; every charger is left at its fallback limit.", flush=True)
            side = demo_side(demo, clock)
            asyncio.run(serve_until_signalled(demo.service, create_app, host, port, side, control))
        finally:
            control.call(stop_sunspec_twins(twins))
            if lock is not None:
                lock.release()
