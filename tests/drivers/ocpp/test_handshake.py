"""Security profile 1: only registered charge points with their password get a websocket."""

from __future__ import annotations

import asyncio
import base64

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from panelpilot.drivers.ocpp import CentralSystem, CredentialStore
from panelpilot.drivers.ocpp.simulator import SimulatedChargePoint
from tests.drivers.ocpp.conftest import PASSWORD, ManualClock


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def status_of(url: str, headers: dict[str, str], subprotocols: list[str]) -> int:
    """The HTTP status the server answers the upgrade with (101 when it is accepted)."""
    try:
        async with connect(url, additional_headers=headers, subprotocols=subprotocols):  # type: ignore[arg-type]
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize(
    ("path_id", "user", "password", "expected"),
    [
        ("cp1", "cp1", PASSWORD, 101),
        ("cp1", "cp1", "wrong-password", 401),  # wrong password
        ("stranger", "stranger", PASSWORD, 401),  # unknown id
        ("cp1", "cp2", PASSWORD, 401),  # another charger's credentials
    ],
    ids=["registered", "wrong-password", "unknown-id", "someone-elses-login"],
)
def test_only_registered_ids_with_their_password_connect(
    store: CredentialStore,
    clock: ManualClock,
    path_id: str,
    user: str,
    password: str,
    expected: int,
) -> None:
    async def scenario() -> int:
        async with CentralSystem(store, clock=clock) as central:
            return await status_of(central.url(path_id), basic(user, password), ["ocpp1.6"])

    assert asyncio.run(scenario()) == expected


def test_missing_credentials_bad_paths_and_missing_subprotocol_are_refused(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> list[int]:
        async with CentralSystem(store, clock=clock) as central:
            base = f"ws://127.0.0.1:{central.port}"
            return [
                await status_of(central.url("cp1"), {}, ["ocpp1.6"]),
                await status_of(central.url("cp1"), {"Authorization": "Basic !!!"}, ["ocpp1.6"]),
                await status_of(f"{base}/other/cp1", basic("cp1", PASSWORD), ["ocpp1.6"]),
                await status_of(f"{base}/ocpp/cp1/x", basic("cp1", PASSWORD), ["ocpp1.6"]),
                await status_of(f"{base}/ocpp/cp1%0A", basic("cp1\n", PASSWORD), ["ocpp1.6"]),
                await status_of(central.url("cp1"), basic("cp1", PASSWORD), []),
                await status_of(central.url("cp1"), basic("cp1", PASSWORD), ["ocpp9"]),
            ]

    assert asyncio.run(scenario()) == [401, 401, 404, 404, 404, 400, 400]


def test_a_refused_simulator_raises_and_the_server_keeps_serving(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            intruder = SimulatedChargePoint(
                "cp1", "not-the-password", central.url("cp1"), clock=clock
            )
            with pytest.raises(InvalidHandshake):
                await intruder.connect()
            good = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await good.connect()
            assert central.session("cp1") is not None
            await good.close()

    asyncio.run(scenario())


def test_a_new_connection_of_the_same_id_replaces_the_old_one(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            first = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await first.connect()
            second = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await second.connect()
            await first.disconnected.wait()
            await second.heartbeat()
            assert central.session("cp1") is not None
            await second.close()

    asyncio.run(scenario())
