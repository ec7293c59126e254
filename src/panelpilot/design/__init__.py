"""The design layer: the rules of the source documents, checked against a site file.

One module per source document (the Powerwall 3 document is split by section: configurations,
tie-in, protection; then backfeed, Panel Limit, Conductor Limit, power sharing). Each module
declares its rules as a table of `Rule` records; `checker` runs them all, `computed` works out
the helpful numbers, `report` / `html` render the result, `command` is `panelpilot check`.
"""

from panelpilot.design.checker import RULES, Report, check_design
from panelpilot.design.findings import Finding, Rule, Severity

__all__ = ["RULES", "Finding", "Report", "Rule", "Severity", "check_design"]
