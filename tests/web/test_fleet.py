"""A fleet: two `panelpilot demo` sites publish to one Mosquitto broker and `panelpilot fleet`
shows both; a site killed outright is shown offline by its last will, one stopped cleanly
says so itself. Every process is real, every socket on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from panelpilot.service.fleet import FleetCollector
from panelpilot.site.mqtt import parse_broker_url
from tests.mosquitto import Mosquitto
from tests.mqtt_subscriber import Subscriber
from tests.web.live_server import free_port

DEADLINE_S = 90.0  # only ever reached when the behaviour under test is broken
POLL_S = 0.2  # polling interval of the page, not synchronisation


@contextlib.contextmanager
def _panelpilot(*args: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "panelpilot", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _until(fetch: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    waiter = threading.Event()
    while True:
        with contextlib.suppress(httpx.TransportError):
            value = fetch()
            if done(value):
                return value
        assert time.monotonic() < deadline, f"{what}: not in time"
        waiter.wait(POLL_S)


def _sites(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {s["site_id"]: s for s in client.get("/api/fleet").json()["sites"]}


def test_two_demo_sites_on_one_broker_are_both_on_the_fleet_page(mosquitto: Mosquitto) -> None:
    fleet_port, north_port, south_port = free_port(), free_port(), free_port()
    mqtt = ["--mqtt", mosquitto.url]
    with (
        Subscriber(mosquitto.port, ("panelpilot/+/status",)) as sub,
        _panelpilot("fleet", *mqtt, "--port", str(fleet_port)) as fleet,
        _panelpilot("demo", "--port", str(north_port), *mqtt, "--mqtt-site", "north") as north,
        _panelpilot("demo", "--port", str(south_port), *mqtt, "--mqtt-site", "south") as south,
        httpx.Client(base_url=f"http://127.0.0.1:{fleet_port}") as client,
    ):

        def both_charging(sites: dict[str, dict[str, Any]]) -> bool:
            for proc in (fleet, north, south):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            return all(
                sid in sites
                and sites[sid]["status"] == "online"
                and sites[sid]["networks"]
                and (sites[sid]["networks"][0]["current_a"] or 0) > 0
                for sid in ("north", "south")
            )

        sites = _until(lambda: _sites(client), both_charging, "both sites charging")
        assert sites["north"]["name"] == "Demo home with a shared garage panel"
        assert sites["north"]["networks"][0]["limit_a"] == 72.0
        assert sites["south"]["panel_limit_a"] == 100.0
        page = client.get("/").text
        assert 'data-site="north"' in page and 'data-site="south"' in page
        assert page.count(">online<") == 2

        north.send_signal(signal.SIGKILL)  # no goodbye: the broker sends its last will
        north.wait()
        sites = _until(
            lambda: _sites(client), lambda s: s["north"]["status"] == "offline", "north's will"
        )
        assert sites["south"]["status"] == "online"
        # the broker sends the will to every subscriber, the fleet's and ours each in its turn
        assert sub.wait_for(lambda: sub.latest("panelpilot/north/status") == "offline")

        south.send_signal(signal.SIGTERM)  # a clean stop says `offline` itself
        assert south.wait(DEADLINE_S) == 0
        assert sub.wait_for(lambda: sub.latest("panelpilot/south/status") == "offline")
        fleet.send_signal(signal.SIGTERM)
        assert fleet.wait(DEADLINE_S) == 0


def test_the_fleet_ignores_what_is_not_a_panelpilot_site() -> None:
    collector = FleetCollector(parse_broker_url("mqtt://127.0.0.1:1"), wall_s=lambda: 5.0)
    collector.receive("panelpilot/a/status", "online")
    collector.receive("panelpilot/a/alerts", "{not json")
    collector.receive("panelpilot/a/alerts", '{"alerts": [{"code": 3}]}')  # no severity
    collector.receive("panelpilot/a/network/n1/current", "nan")
    collector.receive("panelpilot/a/network/n1/limit", "40")
    collector.receive("panelpilot/a/info", "[1, 2]")
    collector.receive("other/b/status", "online")
    collector.receive("panelpilot/c", "online")
    view = collector.view()
    assert [s.site_id for s in view.sites] == ["a"]
    site = view.sites[0]
    assert site.status == "online" and site.alerts == () and site.name == "a"
    assert site.networks[0].current_a is None and site.networks[0].limit_a == 40.0
    collector.receive(
        "panelpilot/a/alerts",
        '{"count": 1, "alerts": [{"code": "meter_lost", "severity": "critical", '
        '"message": "meter garage lost", "device": null}]}',
    )
    assert collector.view().sites[0].alerts[0].code == "meter_lost"
