"""OCPP: panelpilot as the central system chargers dial in to (1.6J and 2.0.1), with a
simulated charge point that speaks the same protocol over a real socket.
"""

from panelpilot.drivers.ocpp.alerts import PROFILE_REJECTED
from panelpilot.drivers.ocpp.central import CentralSystem
from panelpilot.drivers.ocpp.credentials import CredentialError, CredentialStore
from panelpilot.drivers.ocpp.driver import OcppChargerDriver

__all__ = [
    "PROFILE_REJECTED",
    "CentralSystem",
    "CredentialError",
    "CredentialStore",
    "OcppChargerDriver",
]
