"""The MQTT publisher against a real Mosquitto broker (real sockets on loopback): discovery
configs and states arrive, it reconnects and republishes after a broker restart, and a broker
that is down or frozen never costs the control loop a cycle (cycles counted on a manual
clock, never timed)."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import ManualClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.mqtt import MqttOptions, MqttPublisher
from panelpilot.service.mqtt_topics import amps
from panelpilot.service.runtime import CycleResult
from panelpilot.service.service import ControlThread, Service, build_service
from panelpilot.service.storage import Storage
from panelpilot.site import load_site_text
from panelpilot.site.mqtt import parse_broker_url
from tests.mosquitto import Mosquitto
from tests.mqtt_subscriber import Subscriber
from tests.service.helpers import SITE_YAML

DEADLINE_S = 30.0  # only ever reached when the behaviour under test is broken
SITE = "test-garage"
BASE = f"panelpilot/{SITE}"


def _service(tmp_path: Path) -> tuple[Service, World, ManualClock]:
    site = load_site_text(SITE_YAML, "test-site.yaml")
    clock = ManualClock()
    world = World.of(site, clock.monotonic_s)
    storage = Storage.open(sqlite_url(str(tmp_path / "pp.db")))
    return build_service(site, sim_driver_set(world), storage, clock), world, clock


def _options(broker: Mosquitto, **extra: object) -> MqttOptions:
    fast = {"retry_first_s": 0.05, "retry_max_s": 0.2, "timeout_s": 2.0, "keepalive_s": 5}
    return MqttOptions(parse_broker_url(broker.url), SITE, **{**fast, **extra})  # type: ignore[arg-type]


def _cycles(service: Service, clock: ManualClock, count: int) -> list[CycleResult]:
    async def run() -> list[CycleResult]:
        results = []
        for _ in range(count):
            clock.advance(service.runtime.site.control.period_s)
            results.append(await service.runtime.cycle())
        return results

    return asyncio.run(run())


@pytest.fixture
def published(
    tmp_path: Path, mosquitto: Mosquitto
) -> Iterator[tuple[Service, World, ManualClock, MqttPublisher]]:
    service, world, clock = _service(tmp_path)
    publisher = MqttPublisher(service.reads, _options(mosquitto)).attach(service.runtime)
    publisher.start()
    try:
        yield service, world, clock, publisher
    finally:
        publisher.stop()


def test_discovery_configs_and_states_arrive_retained(
    published: tuple[Service, World, ManualClock, MqttPublisher], mosquitto: Mosquitto
) -> None:
    service, world, clock, publisher = published
    world.chargers["wc1"].car_wants_a = 32.0
    world.solar["pv1"].available_a = 10.0
    results = _cycles(service, clock, 5)
    limit = results[-1].decision.chargers["wc1"].limit_a
    assert limit > 0
    assert publisher.wait_for(lambda s: s.published_t == results[-1].snapshot.t, DEADLINE_S)
    # A subscriber that comes later gets everything retained.
    with Subscriber(mosquitto.port) as sub:
        wc1 = f"{BASE}/charger/wc1"
        assert sub.wait_for(lambda: sub.latest(f"{wc1}/limit") == f"{limit:g}")
        assert sub.latest(f"{BASE}/status") == "online"
        assert sub.latest(f"{wc1}/status") == results[-1].decision.chargers["wc1"].status.value
        assert float(sub.latest(f"{wc1}/current") or "nan") > 0
        assert sub.latest(f"{wc1}/fallback") == "24"  # 72 A / 3 members
        assert sub.latest(f"{BASE}/network/garage-net/limit") == "72"
        assert sub.latest(f"{BASE}/network/garage-net/connections") == "3"  # members online
        assert sub.latest(f"{BASE}/circuit/garage/limit") == "80"
        assert sub.latest(f"{BASE}/panel/limit") == "100"
        snap = results[-1].snapshot
        # The Panel Limit's sum: the site meter + solar + battery discharge (seeds/panel-limit.txt).
        panel_a = max(snap.meters["site"] or 0.0, 0.0) + snap.solar["pv1"].current_a
        panel_a += max(snap.batteries["pw1"].current_a, 0.0)
        assert snap.solar["pv1"].current_a > 0 and snap.batteries["pw1"].current_a > 0
        assert sub.latest(f"{BASE}/panel/current") == amps(panel_a)
        assert sub.latest(f"{BASE}/battery/pw1/max_discharge") not in (None, "None")
        assert sub.latest(f"{BASE}/solar/pv1/max") not in (None, "None")
        energy = float(sub.latest(f"{wc1}/session_energy") or "nan")
        assert energy > 0  # four cycles of 1 s at what wc1 draws
        assert all(m.retain for m in sub.of(BASE))
        node = f"homeassistant/sensor/panelpilot_{SITE}"
        config = json.loads(sub.latest(f"{node}/charger_wc1_current/config") or "{}")
        assert config["state_topic"] == f"{wc1}/current"
        assert config["device_class"] == "current" and config["unit_of_measurement"] == "A"
        assert config["state_class"] == "measurement"
        assert config["availability_topic"] == f"{BASE}/status"
        assert config["unique_id"] == f"panelpilot_{SITE}_charger_wc1_current"
        assert config["device"]["identifiers"] == [f"panelpilot_{SITE}_charger_wc1"]
        assert config["device"]["via_device"] == f"panelpilot_{SITE}"
        energy_config = json.loads(sub.latest(f"{node}/charger_wc1_session_energy/config") or "{}")
        assert energy_config["device_class"] == "energy"
        assert energy_config["unit_of_measurement"] == "kWh"
        assert energy_config["state_class"] == "total_increasing"
        power = json.loads(sub.latest(f"{node}/charger_wc1_power/config") or "{}")
        assert (power["device_class"], power["unit_of_measurement"]) == ("power", "W")
        site_entity = json.loads(sub.latest(f"{node}/circuit_garage_current/config") or "{}")
        assert site_entity["device"]["identifiers"] == [f"panelpilot_{SITE}"]
        plug = sub.latest(
            f"homeassistant/binary_sensor/panelpilot_{SITE}/charger_wc1_connected/config"
        )
        assert plug is not None and json.loads(plug)["device_class"] == "plug"
    assert publisher.status().sessions == 1


def test_the_broker_restarted_the_publisher_reconnects_and_republishes_discovery(
    published: tuple[Service, World, ManualClock, MqttPublisher], mosquitto: Mosquitto
) -> None:
    service, _world, clock, publisher = published
    _cycles(service, clock, 2)
    assert publisher.wait_for(lambda s: s.publishes > 0, DEADLINE_S)
    mosquitto.restart()  # same port; no persistence: every retained message is gone
    assert publisher.wait_for(lambda s: s.sessions == 2 and s.connected, DEADLINE_S)
    with Subscriber(mosquitto.port) as sub:
        config = f"homeassistant/sensor/panelpilot_{SITE}/charger_wc2_limit/config"
        assert sub.wait_for(lambda: sub.latest(config) is not None)
        assert sub.wait_for(lambda: sub.latest(f"{BASE}/charger/wc2/limit") is not None)
        assert sub.latest(f"{BASE}/status") == "online"


def test_while_the_broker_is_down_the_loop_misses_no_cycle(
    published: tuple[Service, World, ManualClock, MqttPublisher], mosquitto: Mosquitto
) -> None:
    service, world, clock, publisher = published
    runtime = service.runtime
    world.chargers["wc1"].car_wants_a = 32.0
    _cycles(service, clock, 1)
    assert publisher.wait_for(lambda s: s.connected, DEADLINE_S)
    mosquitto.stop()
    assert publisher.wait_for(lambda s: not s.connected, DEADLINE_S)
    results = _run_loop(service, 100)
    assert len(results) == 100 and runtime.failed_cycles == 0 and runtime.overruns == 0
    period_s = runtime.site.control.period_s
    # On the schedule: each cycle one period after the one before, none skipped.
    assert all(
        b.snapshot.t - a.snapshot.t == pytest.approx(period_s)
        for a, b in itertools.pairwise(results)
    )
    down = [a for a in results[-1].decision.alerts if a.code == "mqtt_disconnected"]
    assert (
        down and down[0].severity == "warning" and mosquitto.url.split("//")[1] in down[0].message
    )
    assert results[-1].decision.chargers["wc1"].limit_a > 0  # control went on
    mosquitto.start()  # back on the same port
    assert publisher.wait_for(lambda s: s.connected, DEADLINE_S)
    last = _cycles(service, clock, 1)[-1]
    assert not [a for a in last.decision.alerts if a.code == "mqtt_disconnected"]


def test_a_frozen_broker_never_delays_a_cycle(
    published: tuple[Service, World, ManualClock, MqttPublisher], mosquitto: Mosquitto
) -> None:
    service, _world, clock, publisher = published
    _cycles(service, clock, 1)
    assert publisher.wait_for(lambda s: s.publishes > 0, DEADLINE_S)
    mosquitto.pause()  # the connection stays open; nothing is acknowledged
    try:
        results = _run_loop(service, 100)
        assert len(results) == 100 and service.runtime.overruns == 0
        # It gives up on the silent broker (publish timeout) and says so.
        assert publisher.wait_for(lambda s: not s.connected, DEADLINE_S)
        more = _run_loop(service, 5)
        assert any(a.code == "mqtt_disconnected" for a in more[-1].decision.alerts)
    finally:
        mosquitto.resume()
    assert publisher.wait_for(lambda s: s.connected, DEADLINE_S)


def _run_loop(service: Service, count: int) -> list[CycleResult]:
    """`count` cycles of the service's own loop (`Runtime.run`) on a control thread, on the
    manual clock: the loop runs as fast as the machine allows, so a cycle that waited on MQTT
    would show up as a loop that never gets there."""
    runtime = service.runtime
    results: list[CycleResult] = []
    reached = threading.Event()
    stop: asyncio.Event | None = None

    def count_cycles(result: CycleResult) -> None:
        results.append(result)
        if len(results) == count:
            assert stop is not None
            stop.set()
            reached.set()

    runtime.listeners.append(count_cycles)
    try:
        with ControlThread().running() as control:
            stop = control.call(_event())
            done = control.submit(runtime.run(stop))
            assert reached.wait(DEADLINE_S), f"the loop stopped after {len(results)} cycles"
            done.result(DEADLINE_S)
    finally:
        runtime.listeners.remove(count_cycles)
    return results[:count]


async def _event() -> asyncio.Event:
    return asyncio.Event()


def test_nothing_received_over_mqtt_changes_a_setting_and_a_home_assistant_restart_gets_discovery(
    published: tuple[Service, World, ManualClock, MqttPublisher], mosquitto: Mosquitto
) -> None:
    service, _world, clock, publisher = published
    _cycles(service, clock, 1)
    assert publisher.wait_for(lambda s: s.published_t is not None, DEADLINE_S)
    before = service.reads.network("garage-net")
    config = f"homeassistant/sensor/panelpilot_{SITE}/network_garage-net_limit/config"
    with Subscriber(mosquitto.port) as sub:
        first = len(sub.of(config))
        assert first == 1  # the retained config
        attempts = {
            f"{BASE}/network/garage-net/limit": "10",
            f"{BASE}/network/garage-net/limit/set": "10",
            f"{BASE}/network/garage-net/enabled/set": "OFF",
            f"{BASE}/charger/wc1/limit/set": "6",
            "homeassistant/status": "online",  # Home Assistant (re)started
        }
        for topic, payload in attempts.items():
            sub.publish(topic, payload)
        # Home Assistant's birth message is the one thing it listens to: discovery again.
        assert sub.wait_for(lambda: len(sub.of(config)) > first)
        _cycles(service, clock, 2)
        assert publisher.wait_for(lambda s: s.published_t == clock.monotonic_s(), DEADLINE_S)
    assert service.runtime.pending == ()
    assert service.reads.network("garage-net") == before
    assert service.storage.setting_history(None, limit=10) == []


def test_a_broker_that_refuses_the_password_is_mqtt_disconnected(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, users={"site-north": "right-password-1"}).start()
    try:
        service, _world, clock = _service(tmp_path)
        wrong = MqttPublisher(
            service.reads, _options(broker, username="site-north", password="wrong-password-2")
        ).attach(service.runtime)
        wrong.start()
        try:
            assert wrong.wait_for(lambda s: s.last_error is not None, DEADLINE_S)
            alerts = _cycles(service, clock, 1)[-1].decision.alerts
            down = [a for a in alerts if a.code == "mqtt_disconnected"]
            assert down and "wrong-password-2" not in down[0].message
            assert "authoriz" in down[0].message.lower()  # the broker's reason
        finally:
            wrong.stop()
        right = MqttPublisher(
            service.reads, _options(broker, username="site-north", password="right-password-1")
        )
        right.start()
        try:
            assert right.wait_for(lambda s: s.connected, DEADLINE_S)
        finally:
            right.stop()
    finally:
        broker.stop()


def test_mqtts_checks_the_brokers_certificate(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, tls=True).start()
    try:
        service, _world, clock = _service(tmp_path)
        # The system's CAs do not know the test's own: refused, and said so.
        untrusted = MqttPublisher(service.reads, _options(broker)).attach(service.runtime)
        untrusted.start()
        try:
            assert untrusted.wait_for(lambda s: s.last_error is not None, DEADLINE_S)
            alerts = _cycles(service, clock, 1)[-1].decision.alerts
            down = [a for a in alerts if a.code == "mqtt_disconnected"]
            assert down and "certificate" in down[0].message.lower()
        finally:
            untrusted.stop()
        trusted = MqttPublisher(service.reads, _options(broker, ca_file=str(broker.ca_file)))
        trusted.start()
        try:
            assert trusted.wait_for(lambda s: s.connected, DEADLINE_S)
        finally:
            trusted.stop()
    finally:
        broker.stop()


class _FailsAsItStops(MqttPublisher):
    """A publisher whose read of the site's state fails just as the service stops (its read
    models going away under it)."""

    calls = 0

    async def _publish(self, client: Any, sent: dict[str, str]) -> None:
        self.calls += 1
        if self.calls > 1:
            assert self._stop is not None
            self._stop.set()  # the service is stopping ...
            raise RuntimeError("the read models are gone")  # ... and the read fails
        await super()._publish(client, sent)


def test_a_stop_says_offline_even_when_the_last_publish_fails(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    service, _, clock = _service(tmp_path)
    with Subscriber(mosquitto.port, (f"{BASE}/status",)) as sub:
        publisher = _FailsAsItStops(service.reads, _options(mosquitto)).attach(service.runtime)
        publisher.start()
        try:
            assert sub.wait_for(lambda: sub.latest(f"{BASE}/status") == "online")
            _cycles(service, clock, 1)  # wakes the publisher: its second publish fails
            assert sub.wait_for(lambda: sub.latest(f"{BASE}/status") == "offline")
        finally:
            publisher.stop()
    assert "publisher error RuntimeError" in (publisher.status().last_error or "")
