"""Fixtures of the field tests: the OCPP tests' clock and credential store, reused."""

from __future__ import annotations

from tests.drivers.ocpp.conftest import clock, store

__all__ = ["clock", "store"]
