"""`panelpilot fleet`: a read-only page of every site's status and alerts, as the sites
publish them to one MQTT broker (docs/integrations.md, "A fleet of sites")."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import Host, Port
from panelpilot.cli.mqtt_options import (
    MqttPasswordFile,
    broker_url,
    credentials,
)
from panelpilot.site.mqtt import MqttConfig

if TYPE_CHECKING:
    from fastapi import FastAPI


async def _serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # ours below: a clean stop, exit 0

    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    await server.serve()


def fleet(
    mqtt: Annotated[
        str,
        typer.Option(
            "--mqtt",
            help="The broker the sites publish to: mqtt://HOST[:PORT] or mqtts://HOST[:PORT].",
            show_default=False,
        ),
    ],
    host: Host = "127.0.0.1",
    port: Port = 8090,
    topic_prefix: Annotated[
        str, typer.Option(help="The sites' first topic levels (their mqtt.topic_prefix).")
    ] = "panelpilot",
    mqtt_password_file: MqttPasswordFile = None,
) -> None:
    """Serve a read-only page of every site's status and alerts, as received from the broker."""
    from pathlib import Path

    from panelpilot.service.fleet import FleetCollector
    from panelpilot.service.launch import chosen_port, listen_problem
    from panelpilot.service.service import software_version
    from panelpilot.web.fleet import create_fleet_app

    broker = broker_url(mqtt)
    try:
        MqttConfig(topic_prefix=topic_prefix)
    except ValueError:
        raise fail(f"--topic-prefix {topic_prefix!r}: levels of letters, digits, _ or -") from None
    port = chosen_port(host, port)
    if (problem := listen_problem(host, port)) is not None:
        raise fail(problem)
    username, password = credentials(broker, None, mqtt_password_file, Path.cwd())
    collector = FleetCollector(broker, prefix=topic_prefix, username=username, password=password)
    version = software_version()
    print(f"panelpilot fleet: sites under {topic_prefix}/ on {broker}", flush=True)
    print(f"  open    http://{host}:{port}/", flush=True)
    collector.start()
    try:
        asyncio.run(_serve(create_fleet_app(collector, version), host, port))
    finally:
        collector.stop()
