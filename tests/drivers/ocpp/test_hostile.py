"""Malformed or hostile input gets the protocol's error or a closed socket, and never stops the
central system or the other chargers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore
from panelpilot.drivers.ocpp.intake import MAX_PROTOCOL_ERRORS, STRIKE_WINDOW_S
from panelpilot.drivers.ocpp.simulator import SimulatedChargePoint
from tests.drivers.ocpp.addresses import loopback_addresses
from tests.drivers.ocpp.conftest import PASSWORD, ManualClock

DECISION = ChargerDecision(16.0, 13.3, ChargerStatus.CHARGING, 16.0, 30.0, 16.0)


def auth(user: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def raw(
    central: CentralSystem, cp_id: str, subprotocol: str = "ocpp1.6", **kwargs: object
) -> ClientConnection:
    return await connect(
        central.url(cp_id),
        additional_headers=auth(cp_id),
        subprotocols=[subprotocol],  # type: ignore[list-item]
        **kwargs,  # type: ignore[arg-type]
    )


async def exchange(connection: ClientConnection, frame: str | bytes) -> list[object]:
    await connection.send(frame)
    reply = json.loads(await connection.recv())
    assert isinstance(reply, list)
    return reply


async def bystander_still_served(central: CentralSystem, bystander: SimulatedChargePoint) -> None:
    """The well-behaved charger still talks and still takes a new limit."""
    await bystander.heartbeat()
    await central.apply("cp1", 1, 48.0, DECISION)
    assert bystander.limit_a() == 16.0


BAD_FRAMES = [
    # OCPP 1.6 names the code FormationViolation (2.0.1: FormatViolation, tested below).
    ("not-json", "{{{ not json", ["-1", "FormationViolation"]),
    ("nested-5000-deep", "[" * 5000 + "]" * 5000, ["-1", "FormationViolation"]),
    ("nan", '[2, "m8", "Heartbeat", {"x": NaN}]', ["-1", "FormationViolation"]),
    ("infinite-number", '[2, "m9", "Heartbeat", {"x": 1e400}]', ["-1", "FormationViolation"]),
    (
        "huge-integer",
        f'[2, "m10", "Heartbeat", {{"x": {"9" * 4000}}}]',
        ["-1", "FormationViolation"],
    ),
    ("not-a-list", '{"a": 1}', ["-1", "ProtocolError"]),
    ("unknown-message-type", '[7, "m1", "Heartbeat", {}]', ["m1", "ProtocolError"]),
    ("call-without-payload", '[2, "m2", "Heartbeat"]', ["m2", "ProtocolError"]),
    ("payload-not-an-object", '[2, "m3", "Heartbeat", [1, 2]]', ["m3", "ProtocolError"]),
    ("unknown-action", '[2, "m4", "SelfDestruct", {}]', ["m4", "NotSupported"]),
    (
        "action-not-handled",
        '[2, "m5", "DataTransfer", {"vendorId": "x"}]',
        ["m5", "NotImplemented"],
    ),
    ("schema-violation", '[2, "m6", "StatusNotification", {"connectorId": "one"}]', ["m6"]),
    ("wrong-types", '[2, "m7", "MeterValues", {"connectorId": 1, "meterValue": 5}]', ["m7"]),
]


@pytest.mark.parametrize(
    ("frame", "expected"), [b[1:] for b in BAD_FRAMES], ids=[b[0] for b in BAD_FRAMES]
)
def test_a_malformed_message_gets_a_call_error(
    store: CredentialStore,
    clock: ManualClock,
    frame: str,
    expected: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[object]:
        async with CentralSystem(store, clock=clock) as central:
            bystander = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await bystander.connect()
            async with await raw(central, "cp2") as hostile:
                reply = await exchange(hostile, frame)
                # The hostile connection itself is still usable afterwards.
                assert (await exchange(hostile, '[2, "ok", "Heartbeat", {}]'))[:2] == [3, "ok"]
            await bystander_still_served(central, bystander)
            await bystander.close()
            return reply

    with caplog.at_level(logging.WARNING):
        reply = asyncio.run(scenario())
    assert reply[0] == 4
    assert reply[1 : 1 + len(expected)] == expected
    malformed = [r for r in caplog.records if "malformed message" in r.getMessage()]
    assert len(malformed) == 1  # every malformed message is logged, once
    assert all(r.exc_info is None for r in caplog.records)  # in one line, no traceback


def test_unsolicited_replies_are_dropped_and_binary_frames_refused(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with (
            CentralSystem(store, clock=clock) as central,
            await raw(central, "cp2") as hostile,
        ):
            for i in range(500):  # a flood of replies to nothing
                await hostile.send(json.dumps([3, f"r{i}", {}]))
                await hostile.send(json.dumps([4, f"e{i}", "InternalError", "", {}]))
            assert (await exchange(hostile, b"\x00\x01"))[:3] == [4, "-1", "ProtocolError"]
            assert (await exchange(hostile, '[2, "ok", "Heartbeat", {}]'))[:2] == [3, "ok"]

    asyncio.run(scenario())


def test_a_huge_frame_closes_only_that_socket(store: CredentialStore, clock: ManualClock) -> None:
    async def scenario() -> int | None:
        async with CentralSystem(store, clock=clock, max_frame_bytes=64 * 1024) as central:
            bystander = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await bystander.connect()
            hostile = await raw(central, "cp2", max_size=None)
            huge = json.dumps(
                [2, "big", "DataTransfer", {"vendorId": "x", "data": "A" * 2_000_000}]
            )
            await hostile.send(huge)
            with pytest.raises(ConnectionClosed):
                await hostile.recv()
            await bystander_still_served(central, bystander)
            await bystander.close()
            return hostile.close_code

    assert asyncio.run(scenario()) == 1009  # message too big


def test_repeated_garbage_closes_the_socket(store: CredentialStore, clock: ManualClock) -> None:
    async def scenario() -> int | None:
        async with CentralSystem(store, clock=clock) as central:
            hostile = await raw(central, "cp2")
            with pytest.raises(ConnectionClosed):
                for _ in range(MAX_PROTOCOL_ERRORS + 1):
                    await exchange(hostile, "garbage")
            return hostile.close_code

    assert asyncio.run(scenario()) == 1008  # policy violation


def test_a_flood_of_connections_leaves_the_server_and_chargers_working(
    store: CredentialStore, clock: ManualClock
) -> None:
    # The flood comes from elsewhere: its address ends up backing off, the chargers' does not.
    (elsewhere,) = loopback_addresses(1)

    async def scenario() -> None:
        async with CentralSystem(store, clock=clock, max_connections=20) as central:
            bystander = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await bystander.connect()

            async def intruder(i: int) -> int:
                try:
                    async with connect(
                        central.url(f"x{i}"),
                        additional_headers=auth(f"x{i}"),
                        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                        local_addr=(elsewhere, 0),
                    ):
                        return 101
                except InvalidStatus as refused:
                    return refused.response.status_code

            async def garbage_tcp() -> None:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", central.port, local_addr=(elsewhere, 0)
                )
                writer.write(b"\x16\x03\x01 not http at all\r\n\r\n")
                await writer.drain()
                await reader.read()  # the server closes it
                writer.close()

            statuses = await asyncio.gather(*(intruder(i) for i in range(200)))
            await asyncio.gather(*(garbage_tcp() for _ in range(50)))
            assert set(statuses) <= {401, 429, 503}
            assert 429 in statuses  # the flooding address was told to back off

            # After the flood, legitimate chargers still connect and are served.
            fleet = [
                SimulatedChargePoint(f"cp{i}", PASSWORD, central.url(f"cp{i}"), clock=clock)
                for i in range(2, 9)
            ]
            await asyncio.gather(*(cp.connect() for cp in fleet))
            await bystander_still_served(central, bystander)
            await asyncio.gather(*(cp.close() for cp in fleet), bystander.close())

    asyncio.run(scenario())


def test_past_the_connection_budget_the_server_answers_busy(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock, max_connections=2) as central:
            fleet = [
                SimulatedChargePoint(f"cp{i}", PASSWORD, central.url(f"cp{i}"), clock=clock)
                for i in (1, 2, 3)
            ]
            await fleet[0].connect()
            await fleet[1].connect()
            with pytest.raises(InvalidStatus) as refused:
                await fleet[2].connect()
            assert refused.value.response.status_code == 503
            await fleet[1].close()
            await central.wait_disconnected("cp2")
            await fleet[2].connect()  # room again once one has left
            await bystander_still_served(central, fleet[0])
            await asyncio.gather(fleet[0].close(), fleet[2].close())

    asyncio.run(scenario())


REPLIES = [
    ("extra-fields", lambda uid: [3, uid, {"status": "Accepted", "bogus": 1}]),
    ("not-an-object", lambda uid: [3, uid, "Accepted"]),
    ("unknown-error-code", lambda uid: [4, uid, "Bogus", "", {}]),
    ("missing-status", lambda uid: [3, uid, {}]),
]


@pytest.mark.parametrize("reply", [r[1] for r in REPLIES], ids=[r[0] for r in REPLIES])
def test_a_malformed_answer_to_a_profile_counts_as_a_refusal(
    store: CredentialStore, clock: ManualClock, reply: Callable[[str], list[object]]
) -> None:
    async def scenario() -> tuple[int, float | None]:
        async with (
            CentralSystem(store, clock=clock) as central,
            await raw(central, "cp2") as hostile,
        ):

            async def answer_the_first_call() -> None:
                # The settings read before it is not implemented here: spec defaults.
                call = json.loads(await hostile.recv())
                while call[2] != "SetChargingProfile":
                    await hostile.send(json.dumps([4, call[1], "NotImplemented", "", {}]))
                    call = json.loads(await hostile.recv())
                await hostile.send(json.dumps(reply(call[1])))

            answering = asyncio.create_task(answer_the_first_call())
            await central.apply("cp2", 1, 48.0, DECISION)
            await answering
            reading = central.reading("cp2", 1, max_a=48.0, offline_after_s=130)
            return len(central.alerts()), reading.limit_a

    assert asyncio.run(scenario()) == (1, 48.0)  # alert raised, counted at its max


@pytest.mark.parametrize(
    ("subprotocol", "code"),
    [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "FormatViolation")],
    ids=["1.6", "2.0.1"],
)
def test_100k_deep_nesting_gets_a_format_error_and_the_session_goes_on(
    store: CredentialStore,
    clock: ManualClock,
    subprotocol: str,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> tuple[list[object], list[object]]:
        # A frame limit large enough for the nesting to reach the parser.
        async with (
            CentralSystem(store, clock=clock, max_frame_bytes=256 * 1024) as central,
            await raw(central, "cp2", subprotocol, max_size=None) as hostile,
        ):
            reply = await exchange(hostile, "[" * 100_000)
            after = await exchange(hostile, '[2, "ok", "Heartbeat", {}]')
            return reply, after

    with caplog.at_level(logging.WARNING):
        reply, after = asyncio.run(scenario())
    assert reply[:3] == [4, "-1", code]
    assert after[:2] == [3, "ok"]
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize(
    "frame",
    [
        '[2, "u{i}", "SelfDestruct", {{}}]',  # no such action in OCPP
        '[2, "u{i}", "DataTransfer", {{"vendorId": "x"}}]',  # an action panelpilot leaves out
        '[2, "u{i}", "StatusNotification", {{"connectorId": "one"}}]',  # against the schema
    ],
    ids=["unknown-action", "unhandled-action", "schema-violation"],
)
def test_unknown_actions_are_counted_and_logged_in_one_line(
    store: CredentialStore, clock: ManualClock, frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> tuple[list[str], int | None]:
        async with CentralSystem(store, clock=clock) as central:
            hostile = await raw(central, "cp2")
            codes = []
            with pytest.raises(ConnectionClosed):
                for i in range(MAX_PROTOCOL_ERRORS + 1):
                    reply = await exchange(hostile, frame.format(i=i))
                    assert reply[:2] == [4, f"u{i}"]
                    codes.append(str(reply[2]))
            return codes, hostile.close_code

    with caplog.at_level(logging.DEBUG):
        codes, close_code = asyncio.run(scenario())
    assert len(codes) == MAX_PROTOCOL_ERRORS
    assert close_code == 1008  # they count toward the malformed-message limit
    lines = [r for r in caplog.records if r.name == "panelpilot.drivers.ocpp.intake"]
    assert len(lines) == MAX_PROTOCOL_ERRORS  # one line each
    assert all("malformed message" in r.getMessage() for r in lines)
    assert all(r.exc_info is None for r in caplog.records)  # and no traceback anywhere
    assert all("\n" not in r.getMessage() for r in lines)


def test_the_odd_malformed_message_is_forgiven_after_a_minute(
    store: CredentialStore, clock: ManualClock
) -> None:
    unknown = '[2, "v", "SelfDestruct", {}]'

    async def scenario() -> int | None:
        async with CentralSystem(store, clock=clock) as central:
            hostile = await raw(central, "cp2")
            for _ in range(MAX_PROTOCOL_ERRORS - 1):
                await exchange(hostile, unknown)
            clock.advance(STRIKE_WINDOW_S)  # a charger's stray vendor messages, spread out
            for _ in range(MAX_PROTOCOL_ERRORS - 1):
                await exchange(hostile, unknown)
            assert (await exchange(hostile, '[2, "ok", "Heartbeat", {}]'))[:2] == [3, "ok"]
            with pytest.raises(ConnectionClosed):  # but ten within the window are too many
                await exchange(hostile, unknown)
                await hostile.recv()
            return hostile.close_code

    assert asyncio.run(scenario()) == 1008
