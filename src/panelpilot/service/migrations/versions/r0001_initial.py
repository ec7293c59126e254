"""0001: the schema of the releases before migrations, adopting a database they made.

Every table is created only when it is missing, and a `tokens` table from before tokens
expired gains `expires_s` (its tokens get the default lifetime, 90 days from their creation),
so a database made before migrations existed comes out exactly as a new one: the columns,
types and indexes are those of `service/schema.py` at this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TOKEN_LIFETIME_S = 90 * 86_400.0  # the default token lifetime when tokens gained an expiry


def _tables(metadata: sa.MetaData) -> list[sa.Table]:
    return [
        sa.Table(
            "users",
            metadata,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("password_hash", sa.Text, nullable=False),
            sa.Column("created_s", sa.Float, nullable=False),
        ),
        sa.Table(
            "sessions",
            metadata,
            sa.Column("token_hash", sa.String(64), primary_key=True),
            sa.Column("user", sa.String(64), nullable=False),
            sa.Column("csrf", sa.String(64), nullable=False),
            sa.Column("license_number", sa.String(64), nullable=True),
            sa.Column("created_s", sa.Float, nullable=False),
            sa.Column("expires_s", sa.Float, nullable=False),
        ),
        sa.Table(
            "tokens",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(64), nullable=False),
            sa.Column("user", sa.String(64), nullable=False),
            sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
            sa.Column("created_s", sa.Float, nullable=False),
            sa.Column("expires_s", sa.Float, nullable=True),
        ),
        sa.Table(
            "setting_versions",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("key", sa.String(128), nullable=False, index=True),
            sa.Column("old_json", sa.Text, nullable=True),
            sa.Column("new_json", sa.Text, nullable=False),
            sa.Column("who", sa.String(64), nullable=False),
            sa.Column("license_number", sa.String(64), nullable=True),
            sa.Column("at_s", sa.Float, nullable=False),
            sa.Column("summary", sa.Text, nullable=False),
        ),
        sa.Table(
            "events",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at_s", sa.Float, nullable=False, index=True),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("severity", sa.String(16), nullable=False),
            sa.Column("code", sa.String(64), nullable=True),
            sa.Column("device", sa.String(64), nullable=True),
            sa.Column("who", sa.String(64), nullable=True),
            sa.Column("message", sa.Text, nullable=False),
        ),
        sa.Table(
            "telemetry",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at_s", sa.Float, nullable=False, index=True),
            sa.Column("step_s", sa.Integer, nullable=False),
            sa.Column("data_json", sa.Text, nullable=False),
        ),
    ]


def upgrade() -> None:
    """Create the tables a database lacks; give old tokens an expiry."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in _tables(sa.MetaData()):
        if table.name not in existing:
            table.create(bind)
    columns = {c["name"] for c in sa.inspect(bind).get_columns("tokens")}
    if "expires_s" not in columns:
        op.add_column("tokens", sa.Column("expires_s", sa.Float, nullable=True))
        tokens = sa.table("tokens", sa.column("created_s"), sa.column("expires_s"))
        op.execute(
            tokens.update()
            .where(tokens.c.expires_s.is_(None))
            .values(expires_s=tokens.c.created_s + TOKEN_LIFETIME_S)
        )


def downgrade() -> None:
    """Drop every table of the service (the database's history with them)."""
    for table in reversed(_tables(sa.MetaData())):
        op.drop_table(table.name)
