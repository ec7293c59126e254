"""`panelpilot users`: the people who may sign in to the pages and the API (owner, installer).

Every change is recorded in the event log as made from the command line.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from panelpilot.cli.database import open_storage, utc
from panelpilot.cli.inputs import DEFAULT_DB_URL, DbUrl, password_line
from panelpilot.cli.progress import Quiet

app = typer.Typer(
    help="Users of the web pages and the API (owner, installer).", no_args_is_help=True
)
UserName = Annotated[str, typer.Argument(help="User name.", show_default=False)]


@app.command("add")
def users_add(
    name: UserName,
    role: Annotated[str, typer.Option(help="owner or installer.")] = "owner",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    db: DbUrl = DEFAULT_DB_URL,
    quiet: Quiet = False,
) -> None:
    """Add a user, or set a user's password and role (ending their sessions and tokens)."""
    from panelpilot.service.accounts import Accounts

    storage = open_storage(db, quiet=quiet)
    if password_stdin:
        password = password_line()
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    Accounts(storage).add_user(name, role, password, time.time())
    storage.add_event(time.time(), "auth", f"user {name} ({role}) added from the command line")
    print(f"user {name} ({role}) saved in {db}")


@app.command("list")
def users_list(db: DbUrl = DEFAULT_DB_URL, quiet: Quiet = False) -> None:
    """List the users: name, role, when added (never passwords)."""
    from panelpilot.service.accounts import Accounts

    for user, created_s in Accounts(open_storage(db, quiet=quiet)).users():
        print(f"{user.name}\t{user.role}\t{utc(created_s)}")


@app.command("remove")
def users_remove(name: UserName, db: DbUrl = DEFAULT_DB_URL, quiet: Quiet = False) -> None:
    """Remove a user with their sessions and API tokens (not the only owner)."""
    from panelpilot.service.accounts import Accounts

    storage = open_storage(db, quiet=quiet)
    Accounts(storage).remove_user(name)
    storage.add_event(time.time(), "auth", f"user {name} removed from the command line")
    print(f"user {name} removed from {db}; their sessions and tokens no longer work")
