"""What each cycle leaves behind: telemetry, alert events, metrics, and the live stream."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from panelpilot.control.codec import decision_to_json
from panelpilot.service.runtime import CycleResult, Runtime
from panelpilot.service.storage import Storage

DOWNSAMPLE_EVERY_CYCLES = 3600
STREAM_QUEUE = 8


def cycle_json(result: CycleResult) -> dict[str, Any]:
    """One cycle as the live stream and the telemetry store it: the decision plus readings."""
    data = decision_to_json(result.decision)
    data["wall_s"] = result.wall_s
    data["readings"] = {
        "meters": dict(result.snapshot.meters),
        "chargers": {
            cid: {"online": r.online, "connected": r.connected, "current_a": r.current_a}
            for cid, r in result.snapshot.chargers.items()
        },
        "batteries": {bid: r.current_a for bid, r in result.snapshot.batteries.items()},
        "solar": {sid: r.current_a for sid, r in result.snapshot.solar.items()},
    }
    return data


class Hub:
    """Fans each cycle out to the live subscribers; a slow one loses old cycles, not new."""

    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.latest: dict[str, Any] | None = None

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives every following cycle."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(STREAM_QUEUE)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop receiving."""
        self.subscribers.discard(queue)

    def publish(self, data: dict[str, Any]) -> None:
        """Give every subscriber this cycle, dropping its oldest if it is behind."""
        self.latest = data
        for queue in self.subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(data)


class Metrics:
    """Prometheus metrics of one service (its own registry: no globals)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.cycles = Counter("panelpilot_cycles", "Control cycles run.", registry=r)
        self.overruns = Counter(
            "panelpilot_cycle_overruns", "Cycles longer than the period.", registry=r
        )
        self.cycle_s = Gauge("panelpilot_cycle_seconds", "Last cycle's duration.", registry=r)
        self.circuit_a = Gauge(
            "panelpilot_circuit_current_amps", "Measured circuit current.", ["circuit"], registry=r
        )
        self.circuit_limit_a = Gauge(
            "panelpilot_circuit_limit_amps", "Circuit limit.", ["circuit"], registry=r
        )
        self.charger_limit_a = Gauge(
            "panelpilot_charger_limit_amps", "Charger limit given.", ["charger"], registry=r
        )
        self.charger_a = Gauge(
            "panelpilot_charger_current_amps", "Charger current drawn.", ["charger"], registry=r
        )
        self.alerts = Gauge("panelpilot_active_alerts", "Alerts in the last cycle.", registry=r)
        self.driver_errors = Gauge(
            "panelpilot_driver_errors", "Driver failures since start.", ["device"], registry=r
        )

    def observe(self, result: CycleResult, runtime: Runtime) -> None:
        """Update every metric from one cycle."""
        self.cycles.inc()
        if result.overrun:
            self.overruns.inc()
        self.cycle_s.set(result.duration_s)
        for cid, c in result.decision.circuits.items():
            if c.current_a is not None:
                self.circuit_a.labels(cid).set(c.current_a)
            self.circuit_limit_a.labels(cid).set(c.limit_a)
        for cid, cd in result.decision.chargers.items():
            self.charger_limit_a.labels(cid).set(cd.limit_a)
            reading = result.snapshot.chargers.get(cid)
            self.charger_a.labels(cid).set(reading.current_a if reading else 0.0)
        self.alerts.set(len(result.decision.alerts))
        for device_id, sup in runtime.supervisors.items():
            self.driver_errors.labels(device_id).set(sup.health.errors_total)


class Recorder:
    """The runtime's listener: store telemetry, log alerts as they come and go, publish."""

    def __init__(self, runtime: Runtime, storage: Storage, hub: Hub, metrics: Metrics) -> None:
        self.runtime = runtime
        self.storage = storage
        self.hub = hub
        self.metrics = metrics
        self.active: dict[tuple[str, str | None], str] = {}

    def __call__(self, result: CycleResult) -> None:
        """Record one cycle."""
        data = cycle_json(result)
        self.storage.add_telemetry(result.wall_s, data)
        self._alerts(result)
        self.metrics.observe(result, self.runtime)
        self.hub.publish(data)
        if self.runtime.cycles % DOWNSAMPLE_EVERY_CYCLES == 0:
            self.storage.downsample(result.wall_s)

    def _alerts(self, result: CycleResult) -> None:
        now = {(a.code, a.device): a for a in result.decision.alerts}
        for key, a in now.items():
            # A refused command is an event every time; other alerts when they start.
            if key not in self.active or a.code == "setting_rejected":
                self.storage.add_event(
                    result.wall_s,
                    "alert",
                    a.message,
                    severity=a.severity,
                    code=a.code,
                    device=a.device,
                )
        for key, message in self.active.items():
            if key not in now:
                self.storage.add_event(
                    result.wall_s,
                    "alert_cleared",
                    f"cleared: {message}",
                    code=key[0],
                    device=key[1],
                )
        self.active = {key: a.message for key, a in now.items()}
