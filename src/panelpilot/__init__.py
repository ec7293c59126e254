"""panelpilot: EV power sharing and NEC 705.13 PCS limits, with design checks."""

__version__ = "0.1.0"
