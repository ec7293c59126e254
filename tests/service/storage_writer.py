"""Writes settings and events as fast as it can, printing `ack N` after each commit.

Run as a subprocess by the kill -9 test: `python storage_writer.py URL`.
"""

from __future__ import annotations

import sys

from panelpilot.service.storage import Storage


def main() -> None:
    """Write until killed."""
    storage = Storage.open(sys.argv[1])
    n = 0
    while True:
        n += 1
        storage.record_setting(
            "network:garage-net",
            {"network_limit_a": n - 1},
            {"network_limit_a": n},
            who="installer",
            license_number=None,
            at_s=float(n),
            summary=f"limit set to {n} A",
        )
        storage.add_event(float(n), "service", f"event {n}")
        storage.add_telemetry(float(n), {"n": n, "pad": "x" * 2000})
        print(f"ack {n}", flush=True)


if __name__ == "__main__":
    main()
