"""`panelpilot chargers`: OCPP charge point registrations (security profile 1: HTTP Basic Auth).

The credentials are in the service's database (`--db`, a URL: SQLite or PostgreSQL; a bare
path is a SQLite file, as before URLs); passwords are stored as hashes and never printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from panelpilot.cli.database import open_storage
from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import DEFAULT_DB_URL, DbUrl, password_line
from panelpilot.cli.progress import Quiet, working

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.credentials import CredentialStore

app = typer.Typer(
    help="Register OCPP charge points and their passwords (HTTP Basic Auth).",
    no_args_is_help=True,
)
ChargePointId = Annotated[str, typer.Argument(metavar="ID", help="Charge point identity.")]


def _url(db: str) -> str:
    """The database URL of `--db`: a bare path is a SQLite file."""
    from pathlib import Path

    from panelpilot.service.database import sqlite_url

    if "://" in db:
        return db
    path = Path(db)
    if path.is_dir() or not path.parent.is_dir():
        raise fail(f"--db {db}: not a file in an existing directory")
    return sqlite_url(db)


def _credentials(db: str, quiet: bool) -> CredentialStore:
    """The credential store of the database at `db`, its schema brought up to date first
    (a bar on a terminal meanwhile, unless `quiet`)."""
    with working("database", quiet):
        from sqlalchemy.exc import SQLAlchemyError

        from panelpilot.drivers.ocpp.credentials import CredentialStore
        from panelpilot.service.database import display_url, reason

        url = _url(db)
        open_storage(url).close()  # creates and migrates (StorageError: one line, exit 2)
        try:
            return CredentialStore(url)
        except SQLAlchemyError as exc:
            problem = f"--db {display_url(url)}: not a usable database ({reason(exc)})"
    raise fail(problem)


def _shown(db: str) -> str:
    from panelpilot.service.database import display_url

    return display_url(_url(db))


@app.command("add")
def chargers_add(
    charge_point_id: ChargePointId,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Set a new password.")] = False,
    db: DbUrl = DEFAULT_DB_URL,
    quiet: Quiet = False,
) -> None:
    """Register a charge point: `echo "$PW" | panelpilot chargers add WC-1 --password-stdin`."""
    if not password_stdin:
        raise fail("give the password on standard input with --password-stdin")
    password = password_line()
    store = _credentials(db, quiet)
    try:
        store.add(charge_point_id, password, replace=replace)  # CredentialError: the boundary
    finally:
        store.close()
    print(f"{charge_point_id}: registered in {_shown(db)}")


@app.command("list")
def chargers_list(db: DbUrl = DEFAULT_DB_URL, quiet: Quiet = False) -> None:
    """List registered charge points (ids and dates, never passwords)."""
    store = _credentials(db, quiet)
    try:
        for record in store.list():
            print(f"{record.charge_point_id}\t{record.created_at}")
    finally:
        store.close()


@app.command("remove")
def chargers_remove(
    charge_point_id: ChargePointId, db: DbUrl = DEFAULT_DB_URL, quiet: Quiet = False
) -> None:
    """Forget a charge point; it is refused at its next connection."""
    store = _credentials(db, quiet)
    try:
        removed = store.remove(charge_point_id)
    finally:
        store.close()
    if not removed:
        raise fail(f"charge point {charge_point_id!r} is not registered in {_shown(db)}")
    print(f"{charge_point_id}: removed from {_shown(db)}")
