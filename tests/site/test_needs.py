"""The `needs:` section: defaults per charger and id tag, each mistake named by line and field."""

import pytest

from panelpilot.site import SiteFileError, load_site_text
from panelpilot.site.needs import minutes_of_day

SITE = """\
circuits:
  - {id: garage, limit_a: 80}
chargers:
  - {id: wc1, circuit: garage, max_a: 48}
needs:
"""


def test_defaults_per_charger_and_id_tag_load() -> None:
    site = load_site_text(
        SITE
        + """\
  timezone: Europe/Paris
  chargers:
    wc1: {departure: "07:30", energy_kwh: 25}
  id_tags:
    TAG1: {energy_kwh: 30}
  estimate: {min_sessions: 5, sessions: 10}
""",
        "site.yaml",
    )
    assert site.needs.chargers["wc1"].departure == "07:30"
    assert site.needs.chargers["wc1"].energy_kwh == 25
    assert site.needs.id_tags["TAG1"].departure is None
    assert (site.needs.estimate.min_sessions, site.needs.timezone) == (5, "Europe/Paris")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '  chargers:\n    wc1: {departure: "7:30"}\n',
            'site.yaml:7: needs.chargers.wc1.departure: "7:30": not a time of day; '
            "write HH:MM, 00:00..23:59",
        ),
        (
            "  id_tags:\n    TAG1: {energy_kwh: 900}\n",
            "site.yaml:7: needs.id_tags.TAG1.energy_kwh:",
        ),
        (
            "  id_tags:\n    TAG1: {}\n",
            "site.yaml:7: needs.id_tags.TAG1: give departure, energy_kwh or both",
        ),
        (
            "  chargers:\n    wc9: {energy_kwh: 10}\n",
            "site.yaml:7: needs.chargers.wc9: unknown charger 'wc9'; known: wc1",
        ),
        ("  timezone: Mars/Olympus\n", 'site.yaml:6: needs.timezone: "Mars/Olympus": not an'),
        (
            "  estimate: {min_sessions: 30, sessions: 20}\n",
            "site.yaml:6: needs.estimate: min_sessions 30 is above sessions 20",
        ),
    ],
)
def test_a_wrong_need_default_is_named_by_line_and_field(body: str, expected: str) -> None:
    with pytest.raises(SiteFileError) as info:
        load_site_text(SITE + body, "site.yaml")
    assert str(info.value).startswith(expected), str(info.value)


def test_times_of_day() -> None:
    assert minutes_of_day("07:30") == 450
    assert minutes_of_day("23:59") == 1439
    for bad in ("24:00", "7:30", "07:60", "0730"):
        with pytest.raises(ValueError):
            minutes_of_day(bad)
