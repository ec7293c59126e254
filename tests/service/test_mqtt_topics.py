"""What a site publishes, as data: payload formats, discovery ids, and docs/integrations.md
listing every topic and entity with its device class, unit and state class."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from panelpilot.service import mqtt_topics
from panelpilot.service.mqtt_topics import (
    Topics,
    amps,
    discovery_messages,
    kwh,
    state_messages,
    watts,
)
from panelpilot.service.views import ChargerView, PanelView
from panelpilot.site.mqtt import topic_id

DOC = Path(__file__).parents[2] / "docs" / "integrations.md"
KINDS: dict[str, tuple[mqtt_topics.Entity[Any], ...]] = {
    "charger/<id>": mqtt_topics.CHARGER,
    "circuit/<id>": mqtt_topics.CIRCUIT,
    "network/<id>": mqtt_topics.NETWORK,
    "battery/<id>": mqtt_topics.BATTERY,
    "solar/<id>": mqtt_topics.SOLAR,
    "panel": mqtt_topics.PANEL,
    "alerts": (mqtt_topics.ALERT_COUNT,),
}


def test_every_topic_and_entity_is_documented_with_its_class_unit_and_state_class() -> None:
    text = DOC.read_text()
    for kind, entities in KINDS.items():
        for e in entities:
            row = (
                f"| `{kind}/{e.key}` | {e.component} | {e.name} | {e.device_class or ''} | "
                f"{e.unit or ''} | {e.state_class or ''} |"
            )
            assert row.replace("|  |", "| |").replace("|  |", "| |") in text, row


def test_numbers_are_plain_text_and_unknown_is_none() -> None:
    assert [amps(12.5), amps(0.0), amps(-0.001), amps(None)] == ["12.5", "0", "0", "None"]
    assert [watts(7680.4), kwh(1.23456), kwh(2.0)] == ["7680", "1.235", "2"]
    assert (
        topic_id("Demo home with a shared garage panel") == "demo-home-with-a-shared-garage-panel"
    )
    assert topic_id("  ***  ") == "site"


def _charger(device_id: str) -> ChargerView:
    return ChargerView(
        id=device_id, circuit="c", network=None, controlled_by="panelpilot", max_a=32.0,
        current_a=10.0, power_w=2400.0, session_energy_kwh=1.5, limit_a=16.0, fallback_a=6.0,
        status="limited", online=True, connected=True, alerts=(), driver_error=None,
    )  # fmt: skip


def test_device_ids_outside_discoverys_alphabet_keep_unique_ids_and_topics() -> None:
    state = mqtt_topics.SiteState(
        "north", "North", "1.0", 240.0, (_charger("wc.1:a"),), (), (), {}, {},
        PanelView(None, None, None), (),
    )  # fmt: skip
    topics = Topics("north")
    states = state_messages(topics, state)
    assert states["panelpilot/north/charger/wc.1:a/limit"] == "16"
    assert states["panelpilot/north/charger/wc.1:a/session_energy"] == "1.5"
    assert "panelpilot/north/panel/current" not in states  # no Panel Limit, no panel topics
    configs = discovery_messages(topics, state)
    config = json.loads(
        configs["homeassistant/sensor/panelpilot_north/charger_wc_1_a_limit/config"]
    )
    assert config["state_topic"] == "panelpilot/north/charger/wc.1:a/limit"
    assert config["unique_id"] == "panelpilot_north_charger_wc_1_a_limit"
    status = json.loads(
        configs["homeassistant/sensor/panelpilot_north/charger_wc_1_a_status/config"]
    )
    assert status["options"] == ["charging", "limited", "idle", "paused", "unresponsive"]
    assert "state_class" not in status and "unit_of_measurement" not in status
    count = json.loads(configs["homeassistant/sensor/panelpilot_north/alerts_count/config"])
    assert count["json_attributes_topic"] == "panelpilot/north/alerts"
    assert all(t.endswith("/config") for t in configs)
    assert len({json.loads(c)["unique_id"] for c in configs.values()}) == len(configs)
