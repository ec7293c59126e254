"""The storage writer's buffers: bounded, oldest dropped and counted, nothing lost otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from panelpilot.service.recorder import StorageWriter
from panelpilot.service.storage import EventRow


class FlakyStorage:
    """Commits rows unless told the disk is full."""

    def __init__(self) -> None:
        self.full = False
        self.events: list[EventRow] = []
        self.telemetry: list[float] = []

    def write_rows(
        self, events: Sequence[EventRow], telemetry: Sequence[tuple[float, Mapping[str, Any]]]
    ) -> None:
        if self.full:
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        self.events += events
        self.telemetry += [at_s for at_s, _ in telemetry]

    def downsample(self, now_s: float) -> int:
        return 0


Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("telemetry"), st.integers(1, 5)),
        st.tuples(st.just("event"), st.integers(1, 3)),
        st.tuples(st.sampled_from(["fill", "free"]), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(steps, st.integers(1, 8), st.integers(1, 8))
def test_buffers_stay_bounded_and_every_row_is_written_dropped_or_waiting(
    plan: list[Step], telemetry_rows: int, event_rows: int
) -> None:
    storage = FlakyStorage()
    writer = StorageWriter(
        storage,  # type: ignore[arg-type]
        telemetry_rows=telemetry_rows,
        event_rows=event_rows,
    )
    sent_t = sent_e = 0
    for action, count in plan:
        if action == "fill":
            storage.full = True
        elif action == "free":
            storage.full = False
        for _ in range(count if action in ("telemetry", "event") else 0):
            if action == "telemetry":
                writer.add_telemetry(float(sent_t), {"n": sent_t})
                sent_t += 1
            else:
                writer.add_event(0.0, "alert", f"event {sent_e}")
                sent_e += 1
        health = writer.health()
        assert health.buffered_rows <= telemetry_rows + event_rows
        # Rows wait only behind a failed write, and a failed write is an alert.
        assert health.buffered_rows == 0 or writer.alerts()[0].code == "storage_failed"
        written_e = [e for e in storage.events if e.kind == "alert"]
        assert len(storage.telemetry) + writer.dropped_telemetry <= sent_t
        assert len(written_e) + writer.dropped_events <= sent_e
    storage.full = False
    assert writer.drain()
    written_e = [e for e in storage.events if e.kind == "alert"]
    # Every row was written once or counted as dropped; the dropped ones were the oldest.
    assert len(storage.telemetry) + writer.dropped_telemetry == sent_t
    assert len(written_e) + writer.dropped_events == sent_e
    assert storage.telemetry == sorted(set(storage.telemetry))
    assert [e.message for e in written_e] == sorted(
        {e.message for e in written_e}, key=lambda m: int(m.split()[1])
    )
    assert writer.alerts() == ()
    if writer.dropped_telemetry or writer.dropped_events:
        notices = [e for e in storage.events if e.code == "storage_failed"]
        assert notices, "dropped rows were never reported"
        told_t = sum(int(n.message.split(": ")[1].split()[0]) for n in notices)
        assert told_t == writer.dropped_telemetry


def test_a_failing_write_raises_storage_failed_with_the_reason_and_the_counts() -> None:
    storage = FlakyStorage()
    writer = StorageWriter(storage, telemetry_rows=3)  # type: ignore[arg-type]
    storage.full = True
    for n in range(5):
        writer.add_telemetry(float(n), {})
    (failed,) = writer.alerts()
    assert failed.code == "storage_failed"
    assert "database or disk is full" in failed.message
    assert "3 rows waiting, 2 dropped" in failed.message
    storage.full = False
    assert writer.drain()
    assert storage.telemetry == [2.0, 3.0, 4.0]
    assert writer.alerts() == ()
