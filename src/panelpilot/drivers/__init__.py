"""Device adapters: the transports between the control core and real (or simulated) devices.

Each protocol family lives in its own package (`ocpp/`, `sunspec/`, `tesla_wc/`, `sim/`) and
hands the core plain readings and applies plain decisions, through the small interfaces of
`panelpilot.drivers.base`. The core never imports anything from here.
"""
