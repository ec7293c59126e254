"""How the web front is run: the proxy in front of it, the license pattern, its bounds."""

from __future__ import annotations

from dataclasses import dataclass

from panelpilot.service.accounts import LICENSE_PATTERN_DEFAULT
from panelpilot.web.limits import (
    BODY_TIMEOUT_S,
    MAX_BODY_BYTES,
    MAX_IN_FLIGHT,
    MAX_IN_FLIGHT_PER_CLIENT,
    MAX_STREAMS,
)


@dataclass(frozen=True, slots=True)
class WebOptions:
    """The web front's settings (`panelpilot run` options; the defaults suit a LAN service).

    `behind_https_proxy`: the service is reached only through an HTTPS reverse proxy on this
    machine, which appends the client's address to `X-Forwarded-For`. Cookies are then marked
    `Secure`, and the client address (for the sign-in throttle, the hashing bounds and the
    loopback rule of `/metrics`) is the last `X-Forwarded-For` entry.
    """

    behind_https_proxy: bool = False
    license_pattern: str = LICENSE_PATTERN_DEFAULT
    max_body_bytes: int = MAX_BODY_BYTES
    max_in_flight: int = MAX_IN_FLIGHT
    max_in_flight_per_client: int = MAX_IN_FLIGHT_PER_CLIENT
    max_streams: int = MAX_STREAMS
    body_timeout_s: float = BODY_TIMEOUT_S
    hash_workers: int = 2
    hash_queue: int = 6
    hash_per_client: int = 2
