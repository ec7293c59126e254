"""`panelpilot db`: where the database's schema stands, and bringing it to this release's.

`run` and every account command upgrade the schema when they open the database; `db upgrade`
does only that, so an upgrade can be made (after a backup) before the service starts.
"""

from __future__ import annotations

import typer

from panelpilot.cli.inputs import DEFAULT_DB_URL, DbUrl
from panelpilot.cli.progress import Quiet, working

app = typer.Typer(help="The database's schema: status and upgrade.", no_args_is_help=True)


@app.command("status")
def db_status(db: DbUrl = DEFAULT_DB_URL, quiet: Quiet = False) -> None:
    """Print the database's schema revision and this release's; exit 1 when behind."""
    with working("database", quiet):
        from sqlalchemy.exc import SQLAlchemyError

        from panelpilot.service import migrate
        from panelpilot.service.database import StorageError, display_url, open_engine, reason

        name = display_url(db)
        engine = open_engine(db)
        try:
            found = migrate.status(engine)
        except SQLAlchemyError as exc:  # unreachable, refused: one line, like every open
            raise StorageError(f"cannot open database {name}: {reason(exc)}") from None
        finally:
            engine.dispose()
    migrate.refuse_newer(found, name)
    if found.up_to_date:
        print(f"{name}: schema {found.current}, up to date")
        return
    was = "made before migrations" if found.legacy else "empty" if found.empty else found.current
    print(f"{name}: schema {was}; this release's is {found.head} (panelpilot db upgrade)")
    raise typer.Exit(1)


@app.command("upgrade")
def db_upgrade(db: DbUrl = DEFAULT_DB_URL, quiet: Quiet = False) -> None:
    """Bring the database's schema to this release's (its tables made when it is new)."""
    with working("upgrading", quiet):
        from panelpilot.cli.database import open_storage
        from panelpilot.service import migrate
        from panelpilot.service.database import display_url

        storage = open_storage(db)
        before = storage.schema_before
        storage.close()
    name = display_url(db)
    if before is None or before.up_to_date:
        print(f"{name}: schema {migrate.head()}, up to date")
        return
    was = "made before migrations" if before.legacy else "empty" if before.empty else before.current
    print(f"{name}: schema upgraded from {was} to {before.head}")
