"""`panelpilot`: one command with sub-commands. Exit codes: 0 fine, 1 findings, 2 bad input."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.console import Console
from rich.table import Table

from panelpilot.control import Controller, Decision, Snapshot, SnapshotError
from panelpilot.control.codec import MAX_LINE_BYTES, decision_to_json, snapshot_from_line
from panelpilot.site import Site, SiteFileError, load_site, site_schema

if TYPE_CHECKING:
    from fastapi import FastAPI

    from panelpilot.drivers.ocpp.credentials import CredentialStore
    from panelpilot.service.clock import SystemClock
    from panelpilot.service.devices import Devices
    from panelpilot.service.service import Service
    from panelpilot.service.storage import ServiceLock, Storage
    from panelpilot.web.options import WebOptions

app = typer.Typer(
    help="panelpilot: EV power sharing and PCS limits that keep every circuit under its limit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2

SitePath = Annotated[Path, typer.Argument(help="Site file (YAML).", show_default=False)]


def fail(lines: list[str] | str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one clear line per problem on stderr and return the exit to raise."""
    for line in [lines] if isinstance(lines, str) else lines:
        print(f"panelpilot: {line}", file=sys.stderr)
    return typer.Exit(code)


def load_site_or_exit(path: Path) -> Site:
    """Load a site file, turning its problems into exit code 2."""
    try:
        return load_site(path)
    except SiteFileError as exc:
        raise fail([str(p) for p in exc.problems]) from None


@app.command()
def schema() -> None:
    """Print the JSON Schema of the site file."""
    print(json.dumps(site_schema(), indent=2))


@app.command()
def validate(site: SitePath) -> None:
    """Check that a site file loads; print a one-line summary."""
    loaded = load_site_or_exit(site)
    print(
        f"{site}: ok: {loaded.name!r}, {sum(1 for _ in loaded.all_circuits())} circuits, "
        f"{len(loaded.networks)} networks, {len(loaded.chargers)} chargers, "
        f"{len(loaded.batteries)} batteries, {len(loaded.solar)} solar"
    )


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
        table.add_row(*row)
    table.caption = "L limited  P paused  - idle  ? unresponsive  (drawn A)"
    return table


@app.command()
def decide(
    site: SitePath,
    states: Annotated[
        str,
        typer.Argument(help="JSON-lines file of snapshots, or - for stdin.", show_default=False),
    ],
    table: Annotated[
        bool, typer.Option("--table", help="Print a readable table instead of JSON lines.")
    ] = False,
) -> None:
    """Replay snapshots through one controller; print one decision per line."""
    loaded = load_site_or_exit(site)
    name, lines = _snapshot_lines(states)
    controller = Controller(loaded)
    rows: list[tuple[Snapshot, Decision]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            snap = snapshot_from_line(raw)
            decision = controller.decide(snap)
        except SnapshotError as exc:
            raise fail(f"{name}:{number}: {exc}") from None
        if table:
            rows.append((snap, decision))
        else:
            print(json.dumps(decision_to_json(decision)), flush=True)
    if table:
        rendered = _table(loaded, rows)
        console = Console()
        # Wide enough for every column when printing to a file or a pipe.
        console.width = max(console.width, 12 * len(rendered.columns) + 24)
        console.print(rendered)


@app.command()
def check(
    site: SitePath,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report with a diagram.")
    ] = None,
) -> None:
    """Check the installation's design against the source documents' rules (exit 1 on errors)."""
    from panelpilot.design.command import run_check

    try:
        code = run_check(site, as_json=as_json, html=html)
    except SiteFileError as exc:
        raise fail([str(p) for p in exc.problems]) from None
    raise typer.Exit(code)


# -- chargers: OCPP charge point registrations (security profile 1) -----------------------

chargers_app = typer.Typer(
    help="Register OCPP charge points and their passwords (HTTP Basic Auth).",
    no_args_is_help=True,
)
app.add_typer(chargers_app, name="chargers")
DbOption = Annotated[
    Path, typer.Option("--db", help="SQLite database of panelpilot.", show_default=True)
]
DEFAULT_DB = Path("panelpilot.db")


def _credentials(db: Path) -> CredentialStore:
    from sqlalchemy.exc import SQLAlchemyError

    from panelpilot.drivers.ocpp.credentials import CredentialStore

    if db.is_dir() or not db.parent.is_dir():
        raise fail(f"--db {db}: not a file in an existing directory")
    try:
        return CredentialStore(db)
    except SQLAlchemyError as exc:
        raise fail(
            f"--db {db}: not a usable SQLite database ({getattr(exc, 'orig', None) or exc})"
        ) from None


# Far longer than any password either store accepts, short enough to never fill memory.
PASSWORD_LINE_BYTES = 4096


def _password_line() -> str:
    """The first line of standard input as a password: UTF-8 text, without its line end."""
    raw = sys.stdin.buffer.readline(PASSWORD_LINE_BYTES + 1)
    if len(raw) > PASSWORD_LINE_BYTES:
        raise fail(f"password on standard input: longer than {PASSWORD_LINE_BYTES} bytes")
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise fail("password on standard input: not UTF-8 text") from None


@chargers_app.command("add")
def chargers_add(
    charge_point_id: Annotated[str, typer.Argument(metavar="ID", help="Charge point identity.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Set a new password.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Register a charge point: `echo "$PW" | panelpilot chargers add WC-1 --password-stdin`."""
    from panelpilot.drivers.ocpp.credentials import CredentialError

    if not password_stdin:
        raise fail("give the password on standard input with --password-stdin")
    password = _password_line()
    store = _credentials(db)
    try:
        store.add(charge_point_id, password, replace=replace)
    except CredentialError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()
    print(f"{charge_point_id}: registered in {db}")


@chargers_app.command("list")
def chargers_list(db: DbOption = DEFAULT_DB) -> None:
    """List registered charge points (ids and dates, never passwords)."""
    store = _credentials(db)
    try:
        for record in store.list():
            print(f"{record.charge_point_id}\t{record.created_at}")
    finally:
        store.close()


@chargers_app.command("remove")
def chargers_remove(
    charge_point_id: Annotated[str, typer.Argument(metavar="ID", help="Charge point identity.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Forget a charge point; it is refused at its next connection."""
    store = _credentials(db)
    try:
        removed = store.remove(charge_point_id)
    finally:
        store.close()
    if not removed:
        raise fail(f"charge point {charge_point_id!r} is not registered in {db}")
    print(f"{charge_point_id}: removed from {db}")


@app.command()
def sim(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a timeline plot (PNG).")] = None,
) -> None:
    """Simulate a scenario with panelpilot and the `static` and `none` baselines side by side."""
    from panelpilot.sim import ScenarioError
    from panelpilot.sim.cli import PlotError, run_sim

    try:
        run_sim(scenario, json_out, plot)
    except ScenarioError as exc:
        raise fail([str(p) for p in exc.problems]) from None
    except PlotError as exc:
        raise fail(str(exc)) from None


# --- the service: `run`, `demo`, `users` (panelpilot.service, panelpilot.web) -------------

DbUrl = Annotated[
    str, typer.Option("--db", help="Database URL (SQLite file by default; PostgreSQL works).")
]
Host = Annotated[str, typer.Option(help="Address to listen on (local only unless told).")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]
users_app = typer.Typer(
    help="Users of the web pages and the API (owner, installer).", no_args_is_help=True
)
app.add_typer(users_app, name="users")


def _open_storage(db: str, *, check: bool = False) -> Storage:
    from panelpilot.service.storage import Storage, StorageError

    try:
        storage = Storage.open(db, check=check)
        if check:
            # A full disk or a read-only file is found now, not in the first cycle.
            storage.check_writable(time.time())
    except StorageError as exc:
        raise fail(str(exc)) from None
    return storage


def _lock_database(db: str) -> ServiceLock | None:
    """One service per database: the lock, or one line naming the other process."""
    from panelpilot.service.storage import ServiceLock, StorageError

    try:
        return ServiceLock.acquire(db)
    except StorageError as exc:
        raise fail(str(exc)) from None


def _choose_settings(service: Service, site: Path, use_stored: bool, reset: bool) -> None:
    """Stored settings that differ from the site file: listed, and used only when chosen."""
    import getpass

    from panelpilot.service.settings import NotStored

    lines = service.settings.differences()
    if lines and reset:
        summary = (
            f"reset to the site file {site} from the command line "
            f"(panelpilot run --reset-settings, by {getpass.getuser()})"
        )
        try:
            count = service.settings.reset_to_site_file("cli", summary)
        except NotStored as exc:
            raise fail(str(exc)) from None
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


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    role: Annotated[str, typer.Option(help="owner or installer.")] = "owner",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    db: DbUrl = "sqlite:///panelpilot.db",
) -> None:
    """Add a user, or set a user's password and role (ending their sessions and tokens)."""
    from panelpilot.service.accounts import AccountError, Accounts

    storage = _open_storage(db)
    if password_stdin:
        password = _password_line()
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        Accounts(storage).add_user(name, role, password, time.time())
    except AccountError as exc:
        raise fail(str(exc)) from None
    storage.add_event(time.time(), "auth", f"user {name} ({role}) added from the command line")
    print(f"user {name} ({role}) saved in {db}")


@users_app.command("list")
def users_list(db: DbUrl = "sqlite:///panelpilot.db") -> None:
    """List the users: name, role, when added (never passwords)."""
    from panelpilot.service.accounts import Accounts

    for user, created_s in Accounts(_open_storage(db)).users():
        print(f"{user.name}\t{user.role}\t{_utc(created_s)}")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    db: DbUrl = "sqlite:///panelpilot.db",
) -> None:
    """Remove a user with their sessions and API tokens (not the only owner)."""
    from panelpilot.service.accounts import AccountError, Accounts

    storage = _open_storage(db)
    try:
        Accounts(storage).remove_user(name)
    except AccountError as exc:
        raise fail(str(exc)) from None
    storage.add_event(time.time(), "auth", f"user {name} removed from the command line")
    print(f"user {name} removed from {db}; their sessions and tokens no longer work")


# -- tokens: API tokens, with a name and an expiry ----------------------------------------

tokens_app = typer.Typer(
    help="API tokens (Authorization: Bearer ...): create, list, revoke.", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")


def _utc(at_s: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for.", show_default=False)],
    user: Annotated[str, typer.Option("--user", help="Whose token it is.", show_default=False)],
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 365).")] = 90,
    db: DbUrl = "sqlite:///panelpilot.db",
) -> None:
    """Create an API token for a user; prints its secret once."""
    from panelpilot.service.accounts import AccountError, Accounts

    storage = _open_storage(db)
    accounts = Accounts(storage)
    owner = next((u for u, _ in accounts.users() if u.name == user), None)
    if owner is None:
        raise fail(f"--user {user!r}: no such user in {db}")
    try:
        token = accounts.add_token(owner, name, time.time(), days)
    except AccountError as exc:
        raise fail(str(exc)) from None
    storage.add_event(
        time.time(), "auth", f"API token {name!r} of {user} created from the command line"
    )
    print(token)


@tokens_app.command("list")
def tokens_list(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's tokens.", show_default=False)
    ] = None,
    db: DbUrl = "sqlite:///panelpilot.db",
) -> None:
    """List API tokens: id, user, name, created, expires (never the secrets)."""
    from panelpilot.service.accounts import Accounts

    now = time.time()
    for t in Accounts(_open_storage(db)).tokens(user):
        state = "\texpired" if t.expired(now) else ""
        print(f"{t.id}\t{t.user}\t{t.name}\t{_utc(t.created_s)}\t{_utc(t.expires_s)}{state}")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (tokens list).")],
    db: DbUrl = "sqlite:///panelpilot.db",
) -> None:
    """Revoke an API token; it stops working at once (and ends its live streams)."""
    from panelpilot.service.accounts import AccountError, Accounts

    storage = _open_storage(db)
    try:
        record = Accounts(storage).revoke_token(token_id)
    except (AccountError, OverflowError):
        raise fail(f"no token {token_id} in {db}") from None
    storage.add_event(time.time(), "auth", f"API token {record.name!r} of {record.user} revoked")
    print(f"token {token_id} ({record.user}: {record.name}) revoked")


def _web_options(behind_https_proxy: bool, license_pattern: str | None) -> WebOptions:
    from panelpilot.service.accounts import AccountError, check_license_pattern
    from panelpilot.web.options import WebOptions

    if license_pattern is None:
        return WebOptions(behind_https_proxy=behind_https_proxy)
    try:
        pattern = check_license_pattern(license_pattern)
    except AccountError as exc:
        raise fail(f"--license-pattern: {exc}") from None
    return WebOptions(behind_https_proxy=behind_https_proxy, license_pattern=pattern)


@app.command()
def run(
    site: SitePath,
    db: DbUrl = "sqlite:///panelpilot.db",
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
) -> None:
    """Run the service: control loop, drivers, storage, web pages and API."""
    from panelpilot.drivers.ocpp.central import ListenError
    from panelpilot.service.clock import SystemClock
    from panelpilot.service.launch import listen_problem, serve_until_signalled
    from panelpilot.service.service import build_service
    from panelpilot.web import create_app

    options = _web_options(behind_https_proxy, license_pattern)
    loaded = load_site_or_exit(site)
    if port == ocpp_port != 0:
        raise fail(f"--port and --ocpp-port are both {port}: the web and OCPP need one each")
    if use_stored and reset_settings:
        raise fail("choose one of --use-stored and --reset-settings")
    if (problem := listen_problem(host, port)) is not None:
        raise fail(problem)
    lock = _lock_database(db)
    storage = _open_storage(db, check=True)
    _first_owner(storage, db)
    clock = SystemClock()
    devices = _devices(loaded, clock, db, (host, ocpp_port), sim=sim, twins=twins)
    service = build_service(loaded, devices.drivers, storage, clock, restore=False)
    _choose_settings(service, site, use_stored, reset_settings)
    print(f"panelpilot: {loaded.name} on http://{host}:{port}/ (database {db})", flush=True)

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
    finally:
        if lock is not None:
            lock.release()
    print("panelpilot: stopped; every charger left at its fallback limit", flush=True)


def _first_owner(storage: Storage, db: str) -> None:
    """On a first run (no owner yet), the owner's password from the terminal."""
    from panelpilot.service.accounts import AccountError, Accounts
    from panelpilot.service.launch import needs_owner

    accounts = Accounts(storage)
    if not needs_owner(accounts):
        return
    if not sys.stdin.isatty():
        raise fail(
            "no owner account yet: run `panelpilot users add NAME --role owner "
            f"--password-stdin --db {db}` first, or start on a terminal"
        )
    print("First run: choose the owner's password (at least 8 characters).")
    password = typer.prompt("Owner password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.add_user("owner", "owner", password, time.time())
    except AccountError as exc:
        raise fail(str(exc)) from None


def _devices(
    loaded: Site,
    clock: SystemClock,
    db: str,
    ocpp_address: tuple[str, int],
    *,
    sim: bool,
    twins: str | None,
) -> Devices:
    """The devices `run` drives: from the site's `drivers:` section, or simulated twins (wired
    by the demo's module, imported only when the site file or the options ask for them)."""
    from panelpilot.service.devices import DeviceSetupError, OcppOptions, build_devices

    credentials = Path(db.removeprefix("sqlite:///")) if db.startswith("sqlite:///") else None
    ocpp = None if credentials is None else OcppOptions(credentials, *ocpp_address)
    try:
        if twins is not None:
            from panelpilot.service.demo import twin_devices

            return twin_devices(loaded, twins)
        if sim or any(d.kind == "sim" for d in loaded.drivers):
            from panelpilot.service.demo import simulated_devices

            return simulated_devices(loaded, clock, ocpp=ocpp, simulate_rest=sim)[0]
        return build_devices(loaded, clock, ocpp=ocpp)
    except DeviceSetupError as exc:
        raise fail(str(exc)) from None


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8080,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file (default: a temporary one).")
    ] = None,
) -> None:
    """Run the service on the built-in demo site: OCPP charge points and cars on loopback."""
    from panelpilot.service.clock import SystemClock
    from panelpilot.service.demo import (
        demo_side,
        demo_site,
        prepare_demo,
        start_sunspec_twins,
        stop_sunspec_twins,
    )
    from panelpilot.service.launch import listen_problem, serve_until_signalled
    from panelpilot.service.service import ControlThread
    from panelpilot.web import create_app

    if (problem := listen_problem(host, port)) is not None:
        raise fail(problem)
    workdir = Path(tempfile.mkdtemp(prefix="panelpilot-demo-"))
    db_path = db or workdir / "demo.db"
    lock = _lock_database(f"sqlite:///{db_path}")
    clock = SystemClock()

    # The devices (SunSpec twins, charge points) live on the control thread's loop.
    with ControlThread().running() as control:
        twins = control.call(start_sunspec_twins(demo_site()))
        try:
            ports = {device: server.port for device, (_, server) in twins.items()}
            demo = prepare_demo(db_path, clock, host, ports)
            for twin, _ in twins.values():
                twin.world = demo.world
            sticker = demo.passwords["wc4"]
            print(f"panelpilot demo: {demo.service.runtime.site.name}")
            print(f"  open    http://{host}:{port}/")
            print(f"  sign in as installer, one-time password: {demo.installer_password}")
            print(f"  wc4 is not in the network yet: add it with id wc4, password {sticker}")
            print(f"  (or its QR payload WIFI:T:WPA;S:wc4;P:{sticker};;)")
            print("  Ctrl-C stops; every charger is left at its fallback limit.", flush=True)
            side = demo_side(demo, clock)
            asyncio.run(serve_until_signalled(demo.service, create_app, host, port, side, control))
        finally:
            control.call(stop_sunspec_twins(twins))
            if lock is not None:
                lock.release()


def main() -> None:
    """Entry point of the `panelpilot` script."""
    app()
