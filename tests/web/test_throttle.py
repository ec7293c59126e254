"""The sign-in throttle slows guessing and locks nobody out (web/throttle.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.web import create_app
from panelpilot.web.throttle import PER_ADDRESS_AND_NAME, PER_NAME, Backoff, SignInThrottle
from tests.web.helpers import (
    HOME,
    INSTALLER_PASSWORD,
    STRANGER,
    client_for,
    csrf_of,
    harness,
    try_sign_in,
)
from tests.web.live_server import LiveServer, live_service

CAPS_S = max(PER_ADDRESS_AND_NAME.cap_s, PER_NAME.cap_s, 300.0)

backoffs = st.builds(
    Backoff,
    free=st.integers(0, 20),
    base_s=st.floats(0.01, 100),
    cap_s=st.floats(0.01, 10_000),
)


@given(backoffs, st.integers(0, 10**9))
def test_a_wait_never_exceeds_the_cap_and_never_shrinks_with_more_failures(
    backoff: Backoff, failures: int
) -> None:
    wait = backoff.wait_s(failures)
    assert 0 <= wait <= backoff.cap_s
    assert backoff.wait_s(failures + 1) >= wait
    assert (wait == 0) == (failures < backoff.free)


addresses = st.sampled_from([f"10.0.0.{i}" for i in range(8)])
names = st.sampled_from(["ivan", "olive", "root"])
attempts = st.lists(st.tuples(addresses, names, st.floats(0, 5000)), max_size=60)


@given(attempts)
def test_the_users_own_address_gets_in_whatever_others_try(
    tries: list[tuple[str, str, float]],
) -> None:
    throttle = SignInThrottle()
    throttle.succeeded("192.0.2.10", "ivan", 0.0)
    now = 0.0
    for address, name, dt in tries:
        now += dt
        if throttle.wait_s(address, name, now) == 0:
            throttle.failed(address, name, now)
        assert throttle.wait_s(address, name, now) <= CAPS_S
    assert throttle.wait_s("192.0.2.10", "ivan", now) == 0


def test_a_success_clears_the_names_failures_and_quiet_time_clears_the_rest() -> None:
    throttle = SignInThrottle()
    for i in range(5):
        throttle.failed("10.0.0.1", "ivan", float(i))
    assert throttle.wait_s("10.0.0.1", "ivan", 5.0) > 0
    throttle.succeeded("10.0.0.2", "ivan", 5.0)
    assert throttle.wait_s("10.0.0.3", "ivan", 5.0) == 0  # the name's count is gone
    assert throttle.wait_s("10.0.0.1", "ivan", 5.0) > 0  # the guesser's own count is not
    assert throttle.wait_s("10.0.0.1", "ivan", 5.0 + 3600.0) == 0


def test_a_flood_of_made_up_names_cannot_grow_the_tables() -> None:
    throttle = SignInThrottle(max_keys=100)
    for i in range(5000):
        throttle.failed(f"10.{i % 7}.0.1", f"user{i}", float(i))
        throttle.succeeded(f"10.{i % 7}.0.2", f"user{i}", float(i))
    assert throttle.size() <= 300 and len(throttle.known) <= 100


def test_a_stranger_guessing_slows_down_while_the_user_signs_in_from_home(tmp_path: Path) -> None:
    h = harness(tmp_path)
    app = create_app(h.service)
    stranger, user = client_for(h, STRANGER, app=app), client_for(h, HOME, app=app)
    codes = [try_sign_in(stranger, "ivan", f"guess-{i:04d}") for i in range(40)]
    assert codes == [401] * 3 + [429] * 37
    checked = [e for e in h.service.storage.events() if "failed sign-in" in e.message]
    assert len(checked) == 3  # refused attempts cost no password check
    assert try_sign_in(user, "ivan", INSTALLER_PASSWORD) == 200
    page = stranger.get("/login")
    refused = stranger.post(
        "/login", data={"name": "ivan", "password": "x" * 9, "csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # Not locked out: after the (capped) wait the stranger may try once more.
    h.clock.advance(PER_ADDRESS_AND_NAME.cap_s)
    assert try_sign_in(stranger, "ivan", INSTALLER_PASSWORD) == 200


def test_guesses_from_many_places_hold_back_only_the_guessers(tmp_path: Path) -> None:
    h = harness(tmp_path)
    app = create_app(h.service)
    assert try_sign_in(client_for(h, HOME, app=app), "ivan", INSTALLER_PASSWORD) == 200
    guessers = [client_for(h, f"198.51.100.{i}", app=app) for i in range(PER_NAME.free)]
    for guesser in guessers:
        assert try_sign_in(guesser, "ivan", "wrong-password") == 401
    # Each guesser is now held back by the name's count, not only by its own.
    assert try_sign_in(guessers[0], "ivan", "wrong-again") == 429
    newcomer = client_for(h, "198.51.100.200", app=app)
    assert try_sign_in(newcomer, "ivan", "a-typo-here") == 401
    assert try_sign_in(newcomer, "ivan", INSTALLER_PASSWORD) == 429  # a failure: held back
    # From home, and from an address that has not guessed wrong, the user gets in at once.
    assert try_sign_in(client_for(h, "198.51.100.201", app=app), "ivan", INSTALLER_PASSWORD) == 200
    assert try_sign_in(client_for(h, HOME, app=app), "ivan", INSTALLER_PASSWORD) == 200
    assert try_sign_in(newcomer, "ivan", INSTALLER_PASSWORD) == 200  # the success cleared it


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(live_service(tmp_path)).start()
    yield live
    live.stop()


def test_a_bounded_flood_over_real_sockets_keeps_the_real_user_in(server: LiveServer) -> None:
    async def sign_in(client: httpx.AsyncClient, password: str) -> int:
        page = await client.get("/login")
        if page.status_code == 503:
            # Twenty flooders share one address, over its 16 requests in flight: the page
            # itself may be refused, which is the bound at work, not a failure of the test.
            return page.status_code
        form = {"name": "ivan", "password": password, "csrf": csrf_of(page.text)}
        return (await client.post("/login", data=form)).status_code

    async def scenario() -> tuple[list[int], list[int]]:
        def client(address: str) -> httpx.AsyncClient:
            transport = httpx.AsyncHTTPTransport(local_address=address)
            return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=60)

        flooders = [client("127.0.0.2") for _ in range(20)]
        user = client("127.0.0.3")
        wave = [client(f"127.0.0.{10 + i}") for i in range(10)]
        try:
            # First a guess from each of ten places: the name's own count now holds guessers.
            assert [await sign_in(c, "guess") for c in wave] == [401] * 10

            async def flood(c: httpx.AsyncClient) -> list[int]:
                return [await sign_in(c, f"guess-{n}") for n in range(10)]

            floods = asyncio.gather(*(flood(c) for c in flooders))
            # The user signs in three times while the 200 guesses are under way.
            mine = [await sign_in(user, INSTALLER_PASSWORD) for _ in range(3)]
            return [code for codes in await floods for code in codes], mine
        finally:
            for c in [*flooders, *wave, user]:
                await c.aclose()

    flood, mine = asyncio.run(scenario())
    assert mine == [303, 303, 303]  # signed in: on to Home
    assert len(flood) == 200 and set(flood) <= {401, 429, 503}
    # Guesses that reached a password check: the free three, two at a time in flight, and one
    # per doubling wait; nowhere near 200.
    assert flood.count(401) <= 20
