"""`panelpilot chargers`: OCPP charge point registrations (security profile 1: HTTP Basic Auth).

The credential database is the SQLite file of the service (`--db`); passwords are stored as
hashes and never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import password_line

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.credentials import CredentialStore

app = typer.Typer(
    help="Register OCPP charge points and their passwords (HTTP Basic Auth).",
    no_args_is_help=True,
)
DbOption = Annotated[
    Path, typer.Option("--db", help="SQLite database of panelpilot.", show_default=True)
]
DEFAULT_DB = Path("panelpilot.db")
ChargePointId = Annotated[str, typer.Argument(metavar="ID", help="Charge point identity.")]


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


@app.command("add")
def chargers_add(
    charge_point_id: ChargePointId,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Set a new password.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Register a charge point: `echo "$PW" | panelpilot chargers add WC-1 --password-stdin`."""
    if not password_stdin:
        raise fail("give the password on standard input with --password-stdin")
    password = password_line()
    store = _credentials(db)
    try:
        store.add(charge_point_id, password, replace=replace)  # CredentialError: the boundary
    finally:
        store.close()
    print(f"{charge_point_id}: registered in {db}")


@app.command("list")
def chargers_list(db: DbOption = DEFAULT_DB) -> None:
    """List registered charge points (ids and dates, never passwords)."""
    store = _credentials(db)
    try:
        for record in store.list():
            print(f"{record.charge_point_id}\t{record.created_at}")
    finally:
        store.close()


@app.command("remove")
def chargers_remove(charge_point_id: ChargePointId, db: DbOption = DEFAULT_DB) -> None:
    """Forget a charge point; it is refused at its next connection."""
    store = _credentials(db)
    try:
        removed = store.remove(charge_point_id)
    finally:
        store.close()
    if not removed:
        raise fail(f"charge point {charge_point_id!r} is not registered in {db}")
    print(f"{charge_point_id}: removed from {db}")
