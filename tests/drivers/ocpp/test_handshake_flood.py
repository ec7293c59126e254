"""A flood of wrong-password handshakes cannot keep a registered charger out (real sockets,
the `ocpp` library as the charger, `websockets` for the flood, production Argon2 cost)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections import Counter
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from ocpp.v16 import ChargePoint as V16ChargePoint
from ocpp.v16 import call as v16_call
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from panelpilot.drivers.ocpp import CentralSystem, CredentialStore
from panelpilot.drivers.ocpp.credentials import default_hasher
from panelpilot.drivers.ocpp.handshake import HandshakePolicy
from panelpilot.service.database import sqlite_url
from tests.databases import sqlite_database
from tests.drivers.ocpp.addresses import SERVER_HOST, loopback_addresses
from tests.drivers.ocpp.conftest import PASSWORD, ManualClock

FLOOD_TASKS = 100
ATTEMPTS_PER_TASK = 30  # bounded: at most 3000 handshakes (it stops once both are in)


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def handshake(
    central: CentralSystem, cp_id: str, password: str, source: str = SERVER_HOST
) -> int:
    """The HTTP status of one upgrade from `source` (101 when accepted; closed at once; 0 when
    the server hung up without an answer)."""
    try:
        async with connect(
            central.url(cp_id),
            additional_headers=basic(cp_id, password),
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            local_addr=(source, 0),
            open_timeout=60,
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code
    except (InvalidHandshake, OSError, TimeoutError):
        return 0


async def boot_charger(central: CentralSystem, cp_id: str, source: str) -> str:
    """Connect as an OCPP 1.6 charger from `source` and boot; the boot status, or the refusal."""
    try:
        connection = await connect(
            central.url(cp_id),
            additional_headers=basic(cp_id, PASSWORD),
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            local_addr=(source, 0),
            open_timeout=60,
        )
    except InvalidStatus as refused:
        return f"HTTP {refused.response.status_code}"
    except (InvalidHandshake, OSError, TimeoutError) as error:
        return f"no answer: {error!r}"
    charger = V16ChargePoint(cp_id, connection)
    reading = asyncio.create_task(charger.start())
    try:
        result = await charger.call(
            v16_call.BootNotification(charge_point_model="m", charge_point_vendor="v")
        )
        return str(result.status)
    finally:
        reading.cancel()
        await connection.close()


@pytest.fixture
def real_cost_store(tmp_path: Path) -> CredentialStore:
    """Chargers hashed at the production Argon2 cost, so checks are as slow as in the field."""
    credentials = CredentialStore(
        sqlite_database(tmp_path / "panelpilot.db"), hasher=default_hasher()
    )
    credentials.add("cp1", PASSWORD)
    credentials.add("cp2", PASSWORD)
    return credentials


@pytest.mark.parametrize("flooders", [1, 4], ids=["one-address", "four-addresses"])
def test_a_wrong_password_flood_keeps_no_registered_charger_out(
    real_cost_store: CredentialStore, flooders: int
) -> None:
    flood_sources = loopback_addresses(flooders)

    async def scenario() -> tuple[str, str, Counter[int], int]:
        async with CentralSystem(real_cost_store) as central:
            # cp1 verified before the flood, from an address the flood will share.
            assert await boot_charger(central, "cp1", flood_sources[0]) == "Accepted"
            statuses: Counter[int] = Counter()
            under_way = asyncio.Event()
            done = asyncio.Event()

            async def flood(i: int) -> None:
                source = flood_sources[i % len(flood_sources)]
                for attempt in range(ATTEMPTS_PER_TASK):
                    if done.is_set():
                        return
                    target = "cp2" if attempt % 2 else f"intruder{i}"
                    status = await handshake(central, target, "wrong-password", source)
                    statuses[status] += 1
                    if statuses.total() >= FLOOD_TASKS:
                        under_way.set()

            flood_tasks = [asyncio.create_task(flood(i)) for i in range(FLOOD_TASKS)]
            await under_way.wait()  # as many answers as flooders: the flood is in full swing
            # During the flood: cp1 again from the flooding address (let in as verified
            # recently), cp2 for the first time from an address the flood does not use.
            again, first_time = await asyncio.gather(
                boot_charger(central, "cp1", flood_sources[0]),
                boot_charger(central, "cp2", SERVER_HOST),
            )
            still_flooding = sum(1 for t in flood_tasks if not t.done())
            done.set()
            await asyncio.gather(*flood_tasks)
            return again, first_time, statuses, still_flooding

    again, first_time, statuses, still_flooding = asyncio.run(scenario())
    assert (again, first_time) == ("Accepted", "Accepted")
    assert still_flooding > 0  # the chargers really connected during the flood
    assert set(statuses) <= {401, 429, 503}
    assert statuses[429] > 0  # the flooding addresses were told to back off


class GatedStore(CredentialStore):
    """A store whose checks of one password hang until released: Argon2 that never ends."""

    HANGING = "hangs-forever-password"

    def __init__(self, path: Path) -> None:
        super().__init__(
            sqlite_database(path),
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.checks = 0
        self._counting = threading.Lock()

    def check(self, charge_point_id: str, password: str) -> tuple[str | None, bool]:
        with self._counting:
            self.checks += 1
        if password == self.HANGING:
            self.entered.release()
            self.release.wait(timeout=60)
        return super().check(charge_point_id, password)


def test_a_recently_verified_charger_is_let_in_while_every_argon2_thread_is_busy(
    tmp_path: Path,
) -> None:
    (flood_source,) = loopback_addresses(1)
    store = GatedStore(tmp_path / "panelpilot.db")
    store.add("cp1", PASSWORD)
    store.add("cp2", PASSWORD)

    async def scenario() -> tuple[str, int, list[int], str]:
        async with CentralSystem(store) as central:
            assert await boot_charger(central, "cp1", SERVER_HOST) == "Accepted"
            checks_before = store.checks
            # Two checks that never finish take both Argon2 threads.
            hanging = [
                asyncio.create_task(handshake(central, "cp2", GatedStore.HANGING, flood_source))
                for _ in range(2)
            ]
            for _ in hanging:
                await asyncio.to_thread(store.entered.acquire)
            again = await boot_charger(central, "cp1", SERVER_HOST)
            checks_for_again = store.checks - checks_before - len(hanging)
            # A charger that never verified waits for a thread; it gets one when they free.
            first_time = asyncio.create_task(boot_charger(central, "cp2", SERVER_HOST))
            store.release.set()
            refused = list(await asyncio.gather(*hanging))
            return again, checks_for_again, refused, await first_time

    again, checks_for_again, refused, first_time = asyncio.run(scenario())
    assert again == "Accepted"
    assert checks_for_again == 0  # no Argon2 for a charger verified moments ago
    assert refused == [401, 401]
    assert first_time == "Accepted"


def test_failures_back_an_address_off_until_a_success_clears_it(
    store: CredentialStore, clock: ManualClock
) -> None:
    monotonic = ManualClock(0.0)
    policy = HandshakePolicy(free_failures=5, backoff_base_s=1.0)

    async def scenario() -> list[int]:
        async with CentralSystem(
            store, clock=clock, monotonic=monotonic, handshake_policy=policy
        ) as central:
            seen = [await handshake(central, "cp1", "wrong-password") for _ in range(6)]
            seen.append(await handshake(central, "cp1", PASSWORD))  # right, but backing off
            seen.append(await handshake(central, "cp3", "wrong-password"))
            monotonic.advance(1.0)
            seen.append(await handshake(central, "cp3", PASSWORD))  # a success clears it
            seen += [await handshake(central, "cp4", "wrong-password") for _ in range(5)]
            return seen

    assert asyncio.run(scenario()) == [401] * 6 + [429, 429, 101] + [401] * 5


def test_a_replaced_or_removed_password_is_not_let_in_from_the_cache(
    store: CredentialStore, clock: ManualClock, tmp_path: Path
) -> None:
    # The CLI changes passwords from another process: another store on the same file.
    other_process = CredentialStore(sqlite_url(str(tmp_path / "panelpilot.db")))

    async def scenario() -> list[int]:
        async with CentralSystem(store, clock=clock) as central:
            seen = [await handshake(central, "cp1", PASSWORD)]  # verified, now cached
            other_process.add("cp1", "a-brand-new-password", replace=True)
            seen.append(await handshake(central, "cp1", PASSWORD))
            seen.append(await handshake(central, "cp1", "a-brand-new-password"))
            other_process.remove("cp1")
            seen.append(await handshake(central, "cp1", "a-brand-new-password"))
            return seen

    assert asyncio.run(scenario()) == [101, 401, 101, 401]
