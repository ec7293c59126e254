"""Source addresses for flood tests: the flood dials from another loopback address than the
chargers, where the kernel routes all of 127.0.0.0/8 to the loopback interface (Linux does)."""

from __future__ import annotations

import socket

import pytest

SERVER_HOST = "127.0.0.1"


def loopback_addresses(count: int) -> list[str]:
    """`count` loopback addresses other than the server's (127.0.0.2, ...), or skip the test."""
    hosts = [f"127.0.0.{i}" for i in range(2, 2 + count)]
    with socket.socket() as server:
        server.bind((SERVER_HOST, 0))
        server.listen()
        for host in hosts:
            with socket.socket() as client:
                try:
                    client.bind((host, 0))
                    client.connect(server.getsockname())
                except OSError as exc:
                    pytest.skip(f"cannot dial {SERVER_HOST} from {host}: {exc}")
                accepted, (peer, _) = server.accept()
                accepted.close()
                if peer != host:
                    pytest.skip(f"dialling from {host} arrives as {peer}")
    return hosts
