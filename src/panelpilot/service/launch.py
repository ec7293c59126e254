"""Starting the service from the command line: the listening address, the first owner, signals.

The demo's side (its fleet of simulated charge points) is wired in `service/demo.py`: nothing
here imports a simulated twin.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable

from starlette.types import ASGIApp

from panelpilot.service.accounts import Accounts
from panelpilot.service.service import ControlSide, ControlThread, Service, serve


def chosen_port(host: str, port: int) -> int:
    """`port`, or for 0 a port the system has free at `host` now: the one printed and then
    listened on (a URL with port 0 opens nothing). `port` as it is when it cannot bind: the
    listen check that follows says why."""
    if port != 0:
        return port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return port
        free: int = probe.getsockname()[1]
        return free


def listen_problem(host: str, port: int) -> str | None:
    """Why the web server could not listen at host:port, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def needs_owner(accounts: Accounts) -> bool:
    """Whether this is a first run (no owner yet)."""
    return accounts.count("owner") == 0


async def serve_until_signalled(
    service: Service,
    app_factory: Callable[[Service], ASGIApp],
    host: str,
    port: int,
    side: ControlSide | None = None,
    control: ControlThread | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then leave every charger at its fallback.

    `side` is entered on the control thread around the loop (the devices' servers, a fleet).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(service, app_factory(service), host, port, stop, side=side, control=control)
