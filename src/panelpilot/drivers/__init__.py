"""Device adapters: the transports between the control core and real (or simulated) devices.

Each protocol family lives in its own package (`ocpp/`, `sunspec/`, `tesla_wc/`) and hands the
core plain readings and applies plain decisions, through the small interfaces of
`panelpilot.drivers.base` (one per part a device plays, one per optional ability). Each
family's `factory.py` builds its drivers from the site file's `drivers:` entries, and
`registry.py` maps every `kind:` to its factory. The simulated twins (`sim/`, `*/sim*.py`) are
for the demo and the tests only. The core never imports anything from here.
"""
