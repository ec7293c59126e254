"""Pairing a charger: the password on its sticker, typed in or read from its QR code.

The QR payload is the common Wi-Fi QR format (`WIFI:T:WPA;S:<ssid>;P:<password>;;`), as on
the seed's Quickstart guide; the SSID names the charger (its id, optionally after a
`TeslaWallConnector_` or `PanelPilot_` prefix). The driver checks the password: the
`Pairable` ability of `drivers/base.py`, re-exported here for the settings.
"""

from __future__ import annotations

from panelpilot.control.settings import SettingsError
from panelpilot.drivers.base import Pairable

__all__ = ["SSID_PREFIXES", "Pairable", "parse_qr_payload"]

SSID_PREFIXES = ("TeslaWallConnector_", "PanelPilot_")


def _fields(body: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key, value, escaped, in_value = "", "", False, False
    for ch in body:
        if escaped:
            value += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif not in_value and ch == ":":
            in_value = True
        elif ch == ";":
            if key:
                fields[key.strip().upper()] = value
            key, value, in_value = "", "", False
        elif in_value:
            value += ch
        else:
            key += ch
    if key:
        fields[key.strip().upper()] = value
    return fields


def parse_qr_payload(payload: str) -> tuple[str, str]:
    """The charger id and password in a QR payload, or a `SettingsError` saying what is wrong."""
    text = payload.strip()
    if not text.upper().startswith("WIFI:"):
        raise SettingsError("not a charger QR payload: it should start with WIFI:")
    fields = _fields(text[5:])
    ssid, password = fields.get("S", ""), fields.get("P", "")
    for prefix in SSID_PREFIXES:
        ssid = ssid.removeprefix(prefix)
    if not ssid or not password:
        raise SettingsError("the QR payload has no network name (S:) or no password (P:)")
    return ssid, password
