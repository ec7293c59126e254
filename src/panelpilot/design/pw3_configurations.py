"""Powerwall 3: supported configurations, its DC solar, and metering.

Source: seeds/powerwall-3-design-considerations.txt, sections "Supported Configurations",
"Powerwall 3 Solar" and the monitoring requirement of "System Tie-in".
"""

from __future__ import annotations

from collections.abc import Iterator

from panelpilot.design.arithmetic import (
    MAX_PW3_EXPANSIONS,
    MAX_PW3_UNITS,
    PW3_MAX_DC_KW,
    PW3_MPPTS,
)
from panelpilot.design.findings import Design, Hit, Rule, Severity, num

DOC = "powerwall-3-design-considerations"
CONFIGS = "Supported Configurations"
SOLAR = "Powerwall 3 Solar"
LOCATION = "Equipment Location"
TIE_IN = "System Tie-in"

TESLA_RELAYS = ("backup-switch", "backup-gateway-2", "gateway-3")
RELAY_NAMES = {
    "backup-switch": "Backup Switch",
    "backup-gateway-2": "Backup Gateway 2",
    "gateway-3": "Gateway 3",
    "other": "a third-party relay",
}
OTHER_BATTERIES = {
    "powerwall-2": "Powerwall 2",
    "powerwall-plus": "Powerwall+",
    "third-party": "a third-party battery",
}
REMOTE_METER = "tesla-remote-energy-meter"
BATTERIES = ("installation", "batteries")


def pw3_count(d: Design) -> Iterator[Hit]:
    """At most 4 Powerwall 3 units."""
    units = d.units("powerwall-3")
    if len(units) > MAX_PW3_UNITS:
        yield Hit(
            f"{len(units)} Powerwall 3 units; at most {MAX_PW3_UNITS} are supported on one site",
            (*BATTERIES, units[MAX_PW3_UNITS][0]),
        )


def pw3_expansion_count(d: Design) -> Iterator[Hit]:
    """At most 3 Powerwall 3 Expansion units."""
    units = d.units("powerwall-3-expansion")
    if len(units) > MAX_PW3_EXPANSIONS:
        yield Hit(
            f"{len(units)} Powerwall 3 Expansion units; at most {MAX_PW3_EXPANSIONS} are supported",
            (*BATTERIES, units[MAX_PW3_EXPANSIONS][0]),
        )


def pw3_expansion_alone(d: Design) -> Iterator[Hit]:
    """An Expansion unit extends a Powerwall 3; it cannot be installed without one."""
    expansions = d.units("powerwall-3-expansion")
    if expansions and not d.units("powerwall-3"):
        yield Hit(
            f"{len(expansions)} Powerwall 3 Expansion unit(s) and no Powerwall 3 to extend",
            (*BATTERIES, expansions[0][0]),
        )


def pw3_relay(d: Design) -> Iterator[Hit]:
    """A Powerwall 3 site has a Backup Switch, Backup Gateway 2 or Gateway 3."""
    if d.has_pw3 and d.inst.site_relay is None:
        yield Hit(
            "no site relay; Powerwall 3 is installed with a Backup Switch, Backup Gateway 2 "
            "or Gateway 3 (set installation.site_relay)",
            ("installation",),
        )


def pw3_canada(d: Design) -> Iterator[Hit]:
    """Backup Switch is not certified in Canada."""
    relay = d.inst.site_relay
    if d.has_pw3 and d.inst.country == "CA" and relay and relay.type == "backup-switch":
        yield Hit(
            "Backup Switch is not certified for Canada; use Backup Gateway 2 or Gateway 3",
            ("installation", "site_relay", "type"),
        )


def pw3_optimizers(d: Design) -> Iterator[Hit]:
    """Third-party MLPE such as optimizers do not work with Powerwall 3."""
    if d.has_pw3 and d.inst.pv and d.inst.pv.optimizers:
        yield Hit(
            "third-party MLPE (optimizers) are not compatible with Powerwall 3",
            ("installation", "pv", "optimizers"),
        )


def pw3_neurio(d: Design) -> Iterator[Hit]:
    """Neurio meters are not compatible with Powerwall 3."""
    for i, meter in enumerate(d.inst.meters):
        if d.has_pw3 and "neurio" in meter.lower():
            yield Hit(
                f"meter {meter!r}: Neurio meters are not compatible with Powerwall 3; meter "
                "with the site relay and/or a Tesla Remote Energy Meter",
                ("installation", "meters", i),
            )


def pw3_other_batteries(d: Design) -> Iterator[Hit]:
    """No Powerwall 2, Powerwall+ or third-party battery beside a Powerwall 3."""
    if not d.has_pw3:
        return
    for i, unit in enumerate(d.inst.batteries):
        name = OTHER_BATTERIES.get(unit.model)
        if name is not None:
            yield Hit(
                f"{name} on a Powerwall 3 site; Powerwall 3 is not compatible with other batteries",
                (*BATTERIES, i, "model"),
            )


def pw3_non_backup(d: Design) -> Iterator[Hit]:
    """Powerwall 3 does not support non-backup systems."""
    if d.has_pw3 and not d.inst.backup:
        yield Hit(
            "a non-backup system; Powerwall 3 is not compatible with non-backup systems",
            ("installation", "backup"),
        )


def pw3_location(d: Design) -> Iterator[Hit]:
    """Powerwall is not installed in a habitable location."""
    for i, unit in enumerate(d.inst.batteries):
        if unit.model.startswith("powerwall") and unit.habitable_location:
            yield Hit(
                f"battery {i + 1} ({unit.model}) is in a habitable location; Powerwall is not "
                "installed in habitable rooms",
                (*BATTERIES, i, "habitable_location"),
            )


def pv_dc_max(d: Design) -> Iterator[Hit]:
    """DC solar within 20 kW per Powerwall 3."""
    pv = d.inst.pv
    units = len(d.units("powerwall-3"))
    if pv is None or not d.has_pw3:
        return
    allowed = PW3_MAX_DC_KW * units
    if pv.dc_kw > allowed:
        yield Hit(
            f"{num(pv.dc_kw)} kW DC is above {num(PW3_MAX_DC_KW)} kW x {units} Powerwall 3 = "
            f"{num(allowed)} kW",
            ("installation", "pv", "dc_kw"),
        )


def pv_mppts(d: Design) -> Iterator[Hit]:
    """At most one string per MPPT: 6 MPPTs per Powerwall 3."""
    pv = d.inst.pv
    units = len(d.units("powerwall-3"))
    if pv is None or not d.has_pw3:
        return
    mppts = PW3_MPPTS * units
    if len(pv.strings) > mppts:
        yield Hit(
            f"{len(pv.strings)} strings for {PW3_MPPTS} MPPTs x {units} Powerwall 3 = {mppts} "
            "MPPTs; strings would have to share an MPPT (see the installation manual)",
            ("installation", "pv", "strings"),
        )


def pv_mci_each_string(d: Design) -> Iterator[Hit]:
    """Every PV string into a Powerwall 3 has at least one MCI, RSD or not."""
    pv = d.inst.pv
    if pv is None or not d.has_pw3:
        return
    for i, string in enumerate(pv.strings):
        if string.mcis < 1:
            yield Hit(
                f"string {i + 1} has no MCI; every string connected to Powerwall 3 needs MCIs, "
                "even where rapid shutdown does not apply",
                ("installation", "pv", "strings", i, "mcis"),
            )


def pv_mci_1(d: Design) -> Iterator[Hit]:
    """A string with a single MCI uses an MCI-1."""
    pv = d.inst.pv
    if pv is None or not d.has_pw3:
        return
    for i, string in enumerate(pv.strings):
        model = (string.mci_model or "").upper()
        if string.mcis == 1 and model != "MCI-1":
            shown = string.mci_model or "an unnamed MCI"
            yield Hit(
                f"string {i + 1} has 1 MCI ({shown}); where one MCI per string is allowed it "
                "must be an MCI-1",
                ("installation", "pv", "strings", i, "mci_model"),
            )


def monitor_site(d: Design) -> Iterator[Hit]:
    """Site power flow is measured by the Tesla relay or a Tesla Remote Energy Meter."""
    if not d.has_pw3:
        return
    relay = d.inst.site_relay
    if (relay is None or relay.type not in TESLA_RELAYS) and REMOTE_METER not in d.inst.meters:
        yield Hit(
            "nothing measures the power flow to and from the site; site metering is done by "
            "the Backup Switch / Gateway or a Tesla Remote Energy Meter",
            ("installation", "meters"),
        )


def monitor_solar(d: Design) -> Iterator[Hit]:
    """Every AC solar inverter's production is monitored."""
    for i, inverter in enumerate(d.inst.ac_solar):
        if inverter.metered is False:
            yield Hit(
                f"AC solar {i + 1} ({inverter.kind}) is not monitored; all solar production "
                "must be measured",
                ("installation", "ac_solar", i, "metered"),
            )


def monitor_solar_unknown(d: Design) -> Iterator[Hit]:
    """AC solar whose monitoring is not stated."""
    for i, inverter in enumerate(d.inst.ac_solar):
        if inverter.metered is None:
            yield Hit(
                f"AC solar {i + 1} ({inverter.kind}): say whether its production is metered "
                "(metered: true/false); all solar production must be measured",
                ("installation", "ac_solar", i),
            )


E, W = Severity.ERROR, Severity.WARNING
# fmt: off
RULES = (
    Rule("PW3-COUNT", E, DOC, CONFIGS, "At most 4 Powerwall 3 units on a site.",
         "count(powerwall-3) <= 4", pw3_count),
    Rule("PW3-EXPANSION-COUNT", E, DOC, CONFIGS, "At most 3 Powerwall 3 Expansion units.",
         "count(powerwall-3-expansion) <= 3", pw3_expansion_count),
    Rule("PW3-EXPANSION-ALONE", E, DOC, CONFIGS,
         "An Expansion unit needs a Powerwall 3 to extend.",
         "count(powerwall-3-expansion) > 0 => count(powerwall-3) >= 1", pw3_expansion_alone),
    Rule("PW3-RELAY", E, DOC, CONFIGS,
         "Powerwall 3 is installed with a Backup Switch, Backup Gateway 2 or Gateway 3.",
         "site_relay is set", pw3_relay),
    Rule("PW3-CANADA", E, DOC, CONFIGS,
         "Backup Switch is not certified in Canada.",
         "country CA => site_relay.type != backup-switch", pw3_canada),
    Rule("PW3-OPTIMIZERS", E, DOC, CONFIGS,
         "Third-party MLPE (optimizers) are not compatible with Powerwall 3.",
         "pv.optimizers is false", pw3_optimizers),
    Rule("PW3-NEURIO", E, DOC, CONFIGS, "Neurio meters are not compatible with Powerwall 3.",
         "no meter named neurio", pw3_neurio),
    Rule("PW3-OTHER-BATTERIES", E, DOC, CONFIGS,
         "No Powerwall 2, Powerwall+ or third-party battery beside a Powerwall 3.",
         "models in {powerwall-3, powerwall-3-expansion}", pw3_other_batteries),
    Rule("PW3-NON-BACKUP", E, DOC, CONFIGS, "Powerwall 3 does not support non-backup systems.",
         "backup is true", pw3_non_backup),
    Rule("PW3-LOCATION", E, DOC, LOCATION, "Powerwall is not installed in habitable locations.",
         "batteries[i].habitable_location is false", pw3_location),
    Rule("PV-DC-MAX", E, DOC, SOLAR, "DC solar within 20 kW per Powerwall 3.",
         "pv.dc_kw <= 20 kW x count(powerwall-3)", pv_dc_max),
    Rule("PV-MPPT", W, DOC, SOLAR, "At most one string per MPPT, 6 MPPTs per Powerwall 3.",
         "count(strings) <= 6 x count(powerwall-3)", pv_mppts),
    Rule("PV-MCI", E, DOC, SOLAR, "Every PV string into a Powerwall 3 has at least one MCI.",
         "strings[i].mcis >= 1", pv_mci_each_string),
    Rule("PV-MCI-1", E, DOC, SOLAR, "A string with a single MCI uses an MCI-1.",
         "strings[i].mcis == 1 => mci_model == MCI-1", pv_mci_1),
    Rule("MONITOR-SITE", E, DOC, TIE_IN,
         "Site power flow is measured (Tesla relay or Tesla Remote Energy Meter).",
         "site_relay is Tesla or meters has tesla-remote-energy-meter", monitor_site),
    Rule("MONITOR-SOLAR", E, DOC, TIE_IN, "All solar production is monitored.",
         "ac_solar[i].metered is not false", monitor_solar),
    Rule("MONITOR-SOLAR-UNKNOWN", W, DOC, TIE_IN,
         "AC solar whose monitoring is not stated in the file.",
         "ac_solar[i].metered is set", monitor_solar_unknown),
)
# fmt: on
