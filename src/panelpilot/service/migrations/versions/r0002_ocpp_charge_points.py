"""0002: the OCPP charge points' passwords (`drivers/ocpp/credentials.py`) in the service's
database, adopting the table a SQLite file already has.

Before this revision the credential store made its own table in the SQLite file of the
service (`panelpilot chargers add`); that table has exactly these columns, so it is kept as
it is, rows and all, and only a database without it gains one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "ocpp_charge_points"


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE,
        metadata,
        sa.Column("charge_point_id", sa.String(48), primary_key=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def upgrade() -> None:
    """Create the charge point table when the database lacks it."""
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(TABLE):
        _table(sa.MetaData()).create(bind)


def downgrade() -> None:
    """Drop the charge point table (every registration with it)."""
    op.drop_table(TABLE)
