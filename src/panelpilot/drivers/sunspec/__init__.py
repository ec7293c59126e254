"""SunSpec over Modbus TCP: meters (201-204), batteries and solar inverters (701/702/704/713,
or 101-103/121/123/124 on older devices), with a simulated device server for tests and demos.

Register layouts come from pysunspec2's model definitions (`models.py`); the points panelpilot
uses are tables (`points.py`); `devices.py` maps them onto the driver interfaces.
"""

from panelpilot.drivers.sunspec.client import DeviceUnreachableError, SunSpecClient
from panelpilot.drivers.sunspec.config import (
    SunSpecConfig,
    SunSpecRole,
    build_battery,
    build_meter,
    build_solar,
    build_sunspec_driver,
)
from panelpilot.drivers.sunspec.devices import SunSpecBattery, SunSpecMeter, SunSpecSolar

__all__ = [
    "DeviceUnreachableError",
    "SunSpecBattery",
    "SunSpecClient",
    "SunSpecConfig",
    "SunSpecMeter",
    "SunSpecRole",
    "SunSpecSolar",
    "build_battery",
    "build_meter",
    "build_solar",
    "build_sunspec_driver",
]
