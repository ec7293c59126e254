"""The control core's tolerances: when two currents or two times that went through arithmetic
count as equal. Ours, not the field's (those are in `panelpilot.field`)."""

from __future__ import annotations

# Currents (A) compared after sums and products: a limit, a capacity, a level.
EPS = 1e-9
# Amps below this in an envelope or a sum of envelopes are rounding, not current.
EPS_A = 1e-6
# Two lease ends this close (s) are the same one (a driver reports back what it was given).
SAME_T_S = 1e-6
