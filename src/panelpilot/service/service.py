"""The service assembled: runtime, storage, accounts, settings, recorder, and the web server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import uvicorn
from starlette.types import ASGIApp

from panelpilot.service.accounts import Accounts
from panelpilot.service.clock import Clock
from panelpilot.service.recorder import Hub, Metrics, Recorder
from panelpilot.service.runtime import DriverSet, Runtime
from panelpilot.service.settings import SettingsManager
from panelpilot.service.storage import Storage
from panelpilot.site.model import Site


def software_version() -> str:
    """panelpilot's version as installed."""
    try:
        return version("panelpilot")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Service:
    """Everything a running panelpilot holds; the web app is created from it."""

    runtime: Runtime
    storage: Storage
    accounts: Accounts
    settings: SettingsManager
    hub: Hub
    metrics: Metrics
    clock: Clock
    version: str
    secure_cookies: bool = False  # set when served over HTTPS (behind a proxy)


def build_service(site: Site, drivers: DriverSet, storage: Storage, clock: Clock) -> Service:
    """Assemble a service and put the stored settings back."""
    runtime = Runtime(site, drivers, clock)
    settings = SettingsManager(runtime, storage, clock)
    settings.restore()
    hub, metrics = Hub(), Metrics()
    runtime.listeners.append(Recorder(runtime, storage, hub, metrics))
    return Service(
        runtime=runtime,
        storage=storage,
        accounts=Accounts(storage),
        settings=settings,
        hub=hub,
        metrics=metrics,
        clock=clock,
        version=software_version(),
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service's stop event decides."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(service: Service, app: ASGIApp, host: str, port: int, stop: asyncio.Event) -> None:
    """Run the control loop and the web app until `stop` is set; fall back on the way out."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    loop_task = asyncio.create_task(service.runtime.run(stop))
    web_task = asyncio.create_task(server.serve())
    service.storage.add_event(service.clock.wall_s(), "service", "service started")
    try:
        done, _ = await asyncio.wait(
            {loop_task, web_task, asyncio.create_task(stop.wait())},
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        server.should_exit = True
        await asyncio.gather(loop_task, web_task, return_exceptions=True)
        service.storage.add_event(
            service.clock.wall_s(), "service", "service stopped; chargers at their fallback"
        )
