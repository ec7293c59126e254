"""The tables of the service's database (SQLAlchemy Core; SQLite by default, any URL works).

The OCPP charge points' table is declared by the only code that reads it
(`drivers/ocpp/credentials.py`: drivers may not import the service) and listed here too.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

from panelpilot.drivers.ocpp import credentials

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # owner | installer
    Column("password_hash", Text, nullable=False),
    Column("created_s", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie's value
    Column("user", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("license_number", String(64), nullable=True),  # qualified personnel, until sign-out
    Column("created_s", Float, nullable=False),
    Column("expires_s", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("user", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_s", Float, nullable=False),
    # Added after the first release: `Accounts` adds it to older databases (NULL = created_s
    # plus the default lifetime).
    Column("expires_s", Float, nullable=True),
)

setting_versions = Table(
    "setting_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False, index=True),  # "network:<id>" or "pcs"
    Column("old_json", Text, nullable=True),
    Column("new_json", Text, nullable=False),
    Column("who", String(64), nullable=False),
    Column("license_number", String(64), nullable=True),
    Column("at_s", Float, nullable=False),
    Column("summary", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_s", Float, nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # setting | alert | alert_cleared | auth | service
    Column("severity", String(16), nullable=False),
    Column("code", String(64), nullable=True),
    Column("device", String(64), nullable=True),
    Column("who", String(64), nullable=True),
    Column("message", Text, nullable=False),
)

telemetry = Table(
    "telemetry",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_s", Float, nullable=False, index=True),
    Column("step_s", Integer, nullable=False),  # 0 = one cycle; else the bucket it stands for
    Column("data_json", Text, nullable=False),
)

ocpp_charge_points = credentials.charge_points.to_metadata(metadata)
