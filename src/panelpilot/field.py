"""The field's numbers: what the standards, the seed documents and the devices fix, each once,
with where it comes from. Imports nothing of ours, so every layer may use it.

Numbers that are panelpilot's own choices (tolerances, defaults a site file can change) live
next to the code that makes them; only facts of the field are here.
"""

from __future__ import annotations

# SAE J1772: the control pilot's duty cycle cannot signal less than 6 A, so a charger runs at
# 0 (paused) or at least 6 A (seed: wall-connector-power-sharing, "6 A per unit").
J1772_MIN_A = 6.0
# SAE J1772: a vehicle follows a lower pilot within 5 s (seed: power sharing, "response").
J1772_RESPONSE_S = 5.0
# A charger drawing less than this is not charging: a full battery or a scheduled charge not
# yet started (Tesla Gen 3 vitals read a car's current to 0.1 A; 1 A is well above noise).
DRAWING_A = 1.0
# Meters and chargers report current to 0.1 A (Tesla Gen 3 vitals; SunSpec model 701/704
# currents at scale factor -1); limits are sent in these steps too (OCPP schedules).
CURRENT_STEP_A = 0.1
# Seed wall-connector-power-sharing: a network has at most 6 units, each needs firmware
# 21.18.0 or newer.
MAX_NETWORK_SIZE = 6
MIN_SHARING_FIRMWARE = (21, 18, 0)
# A Gen 3 Wall Connector's highest output setting (seed: power sharing, breaker table).
WALL_CONNECTOR_MAX_A = 48.0
# NEC 705.12(B)(3)(2), the 120 % rule, quoted in seeds/panel-limit.txt ("Example") and
# conductor-limit.txt (Example 2): supply breakers may total 120 % of the busbar rating.
BUSBAR_FACTOR = 1.2
# Continuous current is 80 % of an overcurrent device (NEC 210.19/210.20; conductor-limit.txt,
# Example 2: "40 A of equivalent overcurrent protection * 0.8 = 32 A continuous").
CONTINUOUS_FACTOR = 0.8
# Seed panel-limit: the Panel Limit is set within 10-200 A, 80 A by default.
PANEL_LIMIT_MIN_A = 10.0
PANEL_LIMIT_MAX_A = 200.0
PANEL_LIMIT_DEFAULT_A = 80.0
