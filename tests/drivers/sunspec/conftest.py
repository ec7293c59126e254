"""Helpers for SunSpec tests: a port nothing listens on, a driver for a simulated device."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def closed_port() -> int:
    """A loopback port that was free a moment ago and has no listener (connect is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
