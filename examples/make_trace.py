"""Regenerate examples/shared-panel.jsonl: a recorded-style trace of the shared panel.

Cars follow their limit one cycle later (as a real car does within J1772's 5 s), so the trace
reads like one taken from a site: four cars arrive, the dryer and the oven come on and go off,
a car's on-board charger takes only 16 A, one charger drops off the network for a while.

    .venv/bin/python examples/make_trace.py > examples/shared-panel.jsonl
"""

from __future__ import annotations

import json
import random

from panelpilot.control import Controller
from panelpilot.control.codec import snapshot_from_json
from panelpilot.site import load_site

site = load_site("examples/shared-panel.yaml")
controller = Controller(site)
rng = random.Random(7)
limits = {c.id: 0.0 for c in site.chargers}
wants = {"wc1": 32.0, "wc2": 32.0, "wc3": 16.0, "wc4": 32.0}
arrive = {"wc1": 0, "wc2": 0, "wc3": 10, "wc4": 20}
for t in range(0, 120, 2):
    house = 6.0 + rng.uniform(-0.5, 0.5)
    if 30 <= t < 70:
        house += 24.0  # dryer
    if 50 <= t < 90:
        house += 20.0  # oven
    offline = {"wc2"} if 96 <= t < 104 else set()
    chargers = {}
    for cid in limits:
        if cid in offline:
            continue
        here = t >= arrive[cid] and not (cid == "wc1" and t >= 110)
        draw = min(limits[cid], wants[cid]) if here and limits[cid] >= 6 else 0.0
        chargers[cid] = {"connected": here, "current_a": round(draw, 1)}
    garage = sum(c["current_a"] for c in chargers.values()) + house
    line = {
        "t": float(t),
        "meters": {"site": round(garage + 20.0, 1), "garage": round(garage, 1)},
        "chargers": chargers,
    }
    print(json.dumps(line))
    decision = controller.decide(snapshot_from_json(line))
    limits = {k: v.limit_a for k, v in decision.chargers.items()}
