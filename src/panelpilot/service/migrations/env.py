"""Alembic's environment: migrate the connection `service/migrate.py` opened, in its transaction.

Only ever run by Alembic's commands with `config.attributes["connection"]` set; the tables are
named by the revisions themselves, never by reflecting `service/schema.py`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def run_migrations() -> None:
    """Run the revisions Alembic chose on the connection handed over, in its transaction."""
    connection = context.config.attributes["connection"]
    assert isinstance(connection, Connection), "run through panelpilot.service.migrate"
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file with its context set up; an import of it alone (a test that imports
# every module) does nothing.
if hasattr(context, "config"):
    run_migrations()
