"""Prometheus metrics of one service: cycles, overruns, circuit and charger currents, alerts.

Each service has its own registry (no globals); the web serves it at `/metrics`, the
series without a device label to loopback scrapers, every series with a token.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from panelpilot.service.runtime import CycleResult, Runtime


class Metrics:
    """Prometheus metrics of one service (its own registry: no globals)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.cycles = Counter("panelpilot_cycles", "Control cycles run.", registry=r)
        self.overruns = Counter(
            "panelpilot_cycle_overruns",
            "Cycles that started late or ran longer than the period.",
            registry=r,
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
