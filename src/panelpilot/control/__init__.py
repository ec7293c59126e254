"""The control core: pure decision logic (no clock, no I/O, no threads).

`Controller.decide(snapshot) -> Decision` allocates EV current (power sharing), applies the
PCS limits to batteries and solar, orders changes safely, and reports statuses and alerts.
"""
