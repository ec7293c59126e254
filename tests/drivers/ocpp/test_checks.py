"""Argon2 turns are shared round-robin by address, and a full waiting room drops the flood's
newest check rather than a newcomer's."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.drivers.ocpp.checks import CheckDropped, FairChecks


async def take_turns(checks: FairChecks, jobs: list[str]) -> tuple[list[str], list[str]]:
    """Run jobs named `<address><n>` (the first holds its turn until all are queued);
    return the order they were served in and the ones dropped."""
    served: list[str] = []
    dropped: list[str] = []
    all_queued = asyncio.Event()

    async def job(name: str) -> None:
        try:
            async with checks.turn(name[0]):
                served.append(name)
                if name == jobs[0]:
                    await all_queued.wait()
        except CheckDropped:
            dropped.append(name)

    tasks = []
    for name in jobs:
        tasks.append(asyncio.create_task(job(name)))
        await asyncio.sleep(0)  # let it queue, in this order
    all_queued.set()
    await asyncio.gather(*tasks)
    assert (checks.running, checks.waiting) == (0, 0)
    return served, dropped


def test_turns_go_round_robin_over_addresses() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        checks = FairChecks(1, 64, "test-checks")
        try:
            return await take_turns(checks, ["A0", "A1", "A2", "A3", "B0"])
        finally:
            checks.shutdown()

    served, dropped = asyncio.run(scenario())
    # First come first served would make B wait behind all of A.
    assert served == ["A0", "A1", "B0", "A2", "A3"]
    assert dropped == []


def test_a_full_waiting_room_drops_from_the_longest_queue() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        checks = FairChecks(1, 3, "test-checks")
        try:
            return await take_turns(checks, ["A0", "A1", "A2", "A3", "B0", "A4", "C0"])
        finally:
            checks.shutdown()

    served, dropped = asyncio.run(scenario())
    # B0 and C0 each push out A's newest waiting check; A4 finds A already the longest.
    assert dropped == ["A3", "A4", "A2"]
    assert served == ["A0", "A1", "B0", "C0"]


def test_a_cancelled_wait_gives_its_place_back() -> None:
    async def scenario() -> tuple[int, int]:
        checks = FairChecks(1, 64, "test-checks")
        release = asyncio.Event()

        async def hold() -> None:
            async with checks.turn("A"):
                await release.wait()

        async def wait_for_turn() -> None:
            async with checks.turn("B"):
                pass

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(wait_for_turn())
        await asyncio.sleep(0)
        assert checks.waiting == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        await holder
        async with checks.turn("C"):  # the pool is whole again
            result = (checks.running, checks.waiting)
        checks.shutdown()
        return result

    assert asyncio.run(scenario()) == (1, 0)


def test_execute_runs_in_the_pool_and_shutdown_refuses_the_waiting() -> None:
    async def scenario() -> tuple[int, bool]:
        checks = FairChecks(1, 64, "test-checks")
        async with checks.turn("A"):
            value = await checks.execute(sum, [1, 2, 3])
            waiting = asyncio.create_task(checks.turn("B").__aenter__())
            await asyncio.sleep(0)
            checks.shutdown()
            try:
                await waiting
            except CheckDropped:
                return value, True
        return value, False

    assert asyncio.run(scenario()) == (6, True)
