"""`panelpilot run`: the service (control loop, drivers, storage, web pages and API) on a site.

Everything that can be refused is refused before the loop starts, each with one line: the
options, the site file, the web port, the database (one service per database), the first
owner's account, the devices, and stored settings that differ from the site file.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from panelpilot.cli.database import lock_database, open_storage
from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import DEFAULT_DB_URL, DbUrl, Host, Port, SitePath
from panelpilot.cli.mqtt_options import (
    MqttPasswordFile,
    MqttSite,
    MqttUrl,
    mqtt_options,
    publish_to,
)
from panelpilot.site import Site, load_site

if TYPE_CHECKING:
    from fastapi import FastAPI

    from panelpilot.service.accounts import Accounts
    from panelpilot.service.clock import Clock
    from panelpilot.service.devices import Devices
    from panelpilot.service.service import Service
    from panelpilot.web.options import WebOptions


def choose_settings(service: Service, site: Path, use_stored: bool, reset: bool) -> None:
    """Stored settings that differ from the site file: listed, and used only when chosen."""
    import getpass

    lines = service.settings.differences()
    if lines and reset:
        summary = (
            f"reset to the site file {site} from the command line "
            f"(panelpilot run --reset-settings, by {getpass.getuser()})"
        )
        count = service.settings.reset_to_site_file("cli", summary)  # NotStored: the boundary
        print(f"panelpilot: {count} stored settings reset to the site file {site}", flush=True)
    elif lines and not use_stored:
        raise fail(
            [
                f"stored settings differ from the site file {site}:",
                *(f"  {line}" for line in lines),
                "start with --use-stored to keep the stored settings, or --reset-settings to "
                "go back to the site file (recorded in the settings history)",
            ]
        )
    service.settings.restore()


def _web_options(behind_https_proxy: bool, license_pattern: str | None) -> WebOptions:
    from panelpilot.service.accounts import AccountError, check_license_pattern
    from panelpilot.web.options import WebOptions

    if license_pattern is None:
        return WebOptions(behind_https_proxy=behind_https_proxy)
    try:
        pattern = check_license_pattern(license_pattern)
    except AccountError as exc:  # named with its option here; the boundary would not
        raise fail(f"--license-pattern: {exc}") from None
    return WebOptions(behind_https_proxy=behind_https_proxy, license_pattern=pattern)


def _refuse_conflicts(host: str, port: int, ocpp_port: int, use_stored: bool, reset: bool) -> None:
    """Options that cannot work together, and a web address that cannot be listened on."""
    from panelpilot.service.launch import listen_problem

    if port == ocpp_port != 0:
        raise fail(f"--port and --ocpp-port are both {port}: the web and OCPP need one each")
    if use_stored and reset:
        raise fail("choose one of --use-stored and --reset-settings")
    if (problem := listen_problem(host, port)) is not None:
        raise fail(problem)


def _first_owner(accounts: Accounts, db: str) -> None:
    """No owner yet: ask for the owner's password on a terminal, refuse anywhere else."""
    from panelpilot.service.launch import needs_owner

    if not needs_owner(accounts):
        return
    if not sys.stdin.isatty():
        raise fail(
            "no owner account yet: run `panelpilot users add NAME --role owner "
            f"--password-stdin --db {db}` first, or start on a terminal"
        )
    print("First run: choose the owner's password (at least 8 characters).")
    password = typer.prompt("Owner password", hide_input=True, confirmation_prompt=True)
    accounts.add_user("owner", "owner", password, time.time())  # AccountError: the boundary


def _devices(
    site: Site, clock: Clock, twins: str | None, sim: bool, db: str, host: str, ocpp_port: int
) -> Devices:
    """The devices `run` drives: from the site's `drivers:` section, or simulated twins (wired
    by the demo's module, imported only when the site file or the options ask for them)."""
    from panelpilot.service.devices import OcppOptions, build_devices

    ocpp = OcppOptions(db, host, ocpp_port)
    if twins is not None:
        from panelpilot.service.demo import twin_devices

        return twin_devices(site, twins)
    if sim or any(d.kind == "sim" for d in site.drivers):
        from panelpilot.service.demo import simulated_devices

        return simulated_devices(site, clock, ocpp=ocpp, simulate_rest=sim)[0]
    return build_devices(site, clock, ocpp=ocpp)  # DeviceSetupError: the boundary


def _serve(service: Service, options: WebOptions, host: str, port: int, devices: Devices) -> None:
    """Serve until signalled; a port taken or a server that cannot start is one line."""
    from panelpilot.drivers.ocpp.central import ListenError
    from panelpilot.service.launch import serve_until_signalled
    from panelpilot.web import create_app

    def web(service: Service) -> FastAPI:
        return create_app(service, options)

    try:
        # The devices' companions (the OCPP central system) run on the control thread.
        asyncio.run(
            serve_until_signalled(service, web, host, port, lambda _stop: devices.running())
        )
    except ListenError as exc:  # the OCPP port is taken, or the host is not an address here
        raise fail(f"{exc} (choose another with --ocpp-port)") from None
    except OSError as exc:  # a device's server could not start
        raise fail(f"cannot start: {exc.strerror or exc}") from None


def run(
    site: SitePath,
    db: DbUrl = DEFAULT_DB_URL,
    host: Host = "127.0.0.1",
    port: Port = 8080,
    sim: Annotated[
        bool, typer.Option("--sim", help="Simulate devices the drivers: section leaves out.")
    ] = False,
    ocpp_port: Annotated[int, typer.Option(help="Port of the OCPP central system.")] = 9000,
    twins: Annotated[
        str | None, typer.Option(help="URL of simulated twins served over HTTP.")
    ] = None,
    use_stored: Annotated[
        bool,
        typer.Option("--use-stored", help="Keep stored settings that differ from the site file."),
    ] = False,
    reset_settings: Annotated[
        bool,
        typer.Option(
            "--reset-settings", help="Replace stored settings that differ by the site file's."
        ),
    ] = False,
    behind_https_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-https-proxy",
            help="Reached only through an HTTPS reverse proxy that sets X-Forwarded-For: "
            "Secure cookies, client addresses from the proxy.",
        ),
    ] = False,
    license_pattern: Annotated[
        str | None,
        typer.Option(
            help="Regular expression a license number must match (default: 2 to 32 letters, "
            "digits, ' ./-', with a digit).",
            show_default=False,
        ),
    ] = None,
    mqtt: MqttUrl = None,
    mqtt_site: MqttSite = None,
    mqtt_password_file: MqttPasswordFile = None,
) -> None:
    """Run the service: control loop, drivers, storage, web pages and API."""
    from panelpilot.service.accounts import Accounts
    from panelpilot.service.clock import SystemClock
    from panelpilot.service.database import display_url
    from panelpilot.service.launch import chosen_port
    from panelpilot.service.service import build_service

    options = _web_options(behind_https_proxy, license_pattern)
    loaded = load_site(site)
    _refuse_conflicts(host, port, ocpp_port, use_stored, reset_settings)
    port = chosen_port(host, port)
    broker = mqtt_options(loaded, site, mqtt, mqtt_site, mqtt_password_file)
    shown = display_url(db)  # never the password
    lock = lock_database(db)
    storage = open_storage(db, check=True)
    _first_owner(Accounts(storage), shown)
    clock = SystemClock()
    devices = _devices(loaded, clock, twins, sim, db, host, ocpp_port)
    service = build_service(loaded, devices.drivers, storage, clock, restore=False)
    choose_settings(service, site, use_stored, reset_settings)
    if broker is not None:
        publish_to(service, broker)
    print(f"panelpilot: {loaded.name} on http://{host}:{port}/ (database {shown})", flush=True)
    try:
        _serve(service, options, host, port, devices)
    finally:
        if lock is not None:
            lock.release()
    print("panelpilot: stopped; every charger left at its fallback limit", flush=True)
