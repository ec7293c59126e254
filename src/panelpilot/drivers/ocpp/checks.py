"""Password checks shared fairly: a small thread pool for Argon2, its turns handed out
round-robin by client address, and a bounded waiting room that drops from the longest queue.

So a flood from a few addresses cannot make a charger at another address wait behind it:
a newcomer waits at most one turn per address that has checks waiting, and when the waiting
room is full it is the flood's newest check that is turned away, not the newcomer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class CheckDropped(Exception):
    """No room to wait for a check (the handshake is answered 503)."""


class FairChecks:
    """`workers` threads; turns round-robin by address; at most `max_waiting` waiting."""

    def __init__(self, workers: int, max_waiting: int, thread_name_prefix: str) -> None:
        """Start the thread pool."""
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name_prefix)
        self._workers = workers
        self._max_waiting = max_waiting
        self._running = 0
        self._waiting = 0
        # Addresses in the order they are served next; each with its waiting turns, oldest first.
        self._queues: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        """Checks waiting for a turn."""
        return self._waiting

    @property
    def running(self) -> int:
        """Turns being used."""
        return self._running

    def shutdown(self) -> None:
        """Stop the threads (running checks are abandoned) and refuse every waiting turn."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        for queue in self._queues.values():
            for turn in queue:
                if not turn.done():
                    turn.set_exception(CheckDropped())
        self._queues.clear()
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def turn(self, address: str) -> AsyncIterator[None]:
        """Wait for a turn for `address`; raises CheckDropped when there is no room to wait."""
        await self._acquire(address)
        try:
            yield
        finally:
            self._running -= 1
            self._dispatch()

    async def execute(self, function: Callable[..., T], *args: object) -> T:
        """Run `function(*args)` in the pool (call it inside `turn`)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    async def _acquire(self, address: str) -> None:
        if self._running < self._workers and self._waiting == 0:
            self._running += 1
            return
        if self._waiting >= self._max_waiting:
            self._drop_for(address)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(address, deque()).append(turn)
        self._waiting += 1
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self._running -= 1  # dispatched just as it was cancelled: give the turn back
                self._dispatch()
            else:
                self._forget(address, turn)
            raise

    def _drop_for(self, address: str) -> None:
        """Make room for one waiting turn of `address`, or raise CheckDropped."""
        if not self._queues:
            raise CheckDropped()
        mine = len(self._queues.get(address, ()))
        longest = max(self._queues, key=lambda a: len(self._queues[a]))
        if len(self._queues[longest]) <= mine:
            raise CheckDropped()
        victim = self._queues[longest].pop()  # that address's newest
        if not self._queues[longest]:
            del self._queues[longest]
        self._waiting -= 1
        victim.set_exception(CheckDropped())

    def _forget(self, address: str, turn: asyncio.Future[None]) -> None:
        queue = self._queues.get(address)
        if queue is not None and turn in queue:
            queue.remove(turn)
            self._waiting -= 1
            if not queue:
                del self._queues[address]

    def _dispatch(self) -> None:
        while self._running < self._workers and self._queues:
            address, queue = next(iter(self._queues.items()))
            turn = queue.popleft()
            self._waiting -= 1
            if queue:
                self._queues.move_to_end(address)  # the next address goes first next time
            else:
                del self._queues[address]
            if not turn.done():
                self._running += 1
                turn.set_result(None)
