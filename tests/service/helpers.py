"""A small shared-panel site with simulated devices, for the service tests."""

from __future__ import annotations

from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import ManualClock
from panelpilot.service.runtime import Runtime
from panelpilot.site import Site, load_site_text

SITE_YAML = """
name: Test garage
voltage_v: 240
circuits:
  - id: service
    limit_a: 160
    meter: site
    children:
      - id: garage
        limit_a: 80
        meter: garage
networks:
  - {id: garage-net, circuit: garage, network_limit_a: 72}
chargers:
  - {id: wc1, circuit: garage, network: garage-net, max_a: 32}
  - {id: wc2, circuit: garage, network: garage-net, max_a: 32}
  - {id: wc3, circuit: garage, network: garage-net, max_a: 32}
  - {id: wc4, circuit: garage, max_a: 32}
batteries:
  - {id: pw1, circuit: service, max_discharge_a: 48, max_charge_a: 48}
solar:
  - {id: pv1, circuit: service, max_a: 40}
pcs:
  panel: service
  panel_limit_a: 100
"""


def garage_site() -> Site:
    """The test site."""
    return load_site_text(SITE_YAML, "test-site.yaml")


def sim_runtime(site: Site | None = None) -> tuple[Runtime, World, ManualClock]:
    """A runtime on simulated drivers and a manual clock."""
    site = site or garage_site()
    clock = ManualClock()
    world = World.of(site, clock.monotonic_s)
    runtime = Runtime(site, sim_driver_set(world), clock)
    return runtime, world, clock
