"""The design layer: the rules of the source documents, checked against a site file.

One module per source document (the Powerwall 3 document is split by section: configurations,
tie-in, protection; then backfeed, Panel Limit, Conductor Limit, power sharing). Each module
declares its rules as a table of `Rule` records; `checker` runs them all, `computed` works out
the helpful numbers, `load` reads a site file for checking (settings the controller would refuse
become findings). The layer returns data (a `Report`: findings and computed values) and does no
I/O of its own: `panelpilot check` renders it as text, JSON or HTML (`panelpilot.cli.check*`).
"""

from panelpilot.design.checker import RULES, Report, check_design
from panelpilot.design.findings import Finding, Rule, Severity
from panelpilot.design.load import check_file

__all__ = ["RULES", "Finding", "Report", "Rule", "Severity", "check_design", "check_file"]
