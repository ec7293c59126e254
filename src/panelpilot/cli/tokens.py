"""`panelpilot tokens`: API tokens (Authorization: Bearer ...), each with a name and an expiry.

A token's secret is printed once, when it is created; the database keeps only its hash.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from panelpilot.cli.database import open_storage, utc
from panelpilot.cli.exits import fail
from panelpilot.cli.inputs import DEFAULT_DB_URL, DbUrl
from panelpilot.cli.progress import Quiet

app = typer.Typer(
    help="API tokens (Authorization: Bearer ...): create, list, revoke.", no_args_is_help=True
)


@app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for.", show_default=False)],
    user: Annotated[str, typer.Option("--user", help="Whose token it is.", show_default=False)],
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 365).")] = 90,
    db: DbUrl = DEFAULT_DB_URL,
    quiet: Quiet = False,
) -> None:
    """Create an API token for a user; prints its secret once."""
    from panelpilot.service.accounts import Accounts

    storage = open_storage(db, quiet=quiet)
    accounts = Accounts(storage)
    owner = next((u for u, _ in accounts.users() if u.name == user), None)
    if owner is None:
        raise fail(f"--user {user!r}: no such user in {db}")
    token = accounts.add_token(owner, name, time.time(), days)
    storage.add_event(
        time.time(), "auth", f"API token {name!r} of {user} created from the command line"
    )
    print(token)


@app.command("list")
def tokens_list(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's tokens.", show_default=False)
    ] = None,
    db: DbUrl = DEFAULT_DB_URL,
    quiet: Quiet = False,
) -> None:
    """List API tokens: id, user, name, created, expires (never the secrets)."""
    from panelpilot.service.accounts import Accounts

    now = time.time()
    for t in Accounts(open_storage(db, quiet=quiet)).tokens(user):
        state = "\texpired" if t.expired(now) else ""
        print(f"{t.id}\t{t.user}\t{t.name}\t{utc(t.created_s)}\t{utc(t.expires_s)}{state}")


@app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (tokens list).")],
    db: DbUrl = DEFAULT_DB_URL,
    quiet: Quiet = False,
) -> None:
    """Revoke an API token; it stops working at once (and ends its live streams)."""
    from panelpilot.service.accounts import AccountError, Accounts

    storage = open_storage(db, quiet=quiet)
    try:
        record = Accounts(storage).revoke_token(token_id)
    except (AccountError, OverflowError):  # the one refusal: no such token (or an id too big)
        raise fail(f"no token {token_id} in {db}") from None
    storage.add_event(time.time(), "auth", f"API token {record.name!r} of {record.user} revoked")
    print(f"token {token_id} ({record.user}: {record.name}) revoked")
