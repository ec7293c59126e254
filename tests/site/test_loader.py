"""The site file: every example loads, and every mistake is named with file, line and field."""

from pathlib import Path

import pytest

from panelpilot.site import SiteFileError, load_site, load_site_text

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_site_loads(path: Path) -> None:
    site = load_site(path)
    assert site.circuits


def test_seed_minimum_of_6_a_per_unit_is_named_with_its_line() -> None:
    text = """\
circuits:
  - id: garage
    limit_a: 80
networks:
  - {id: n, circuit: garage, network_limit_a: 30}
chargers:
""" + "".join(f"  - {{id: c{i}, circuit: garage, network: n, max_a: 32}}\n" for i in range(6))
    with pytest.raises(SiteFileError) as info:
        load_site_text(text, "garage.yaml")
    assert str(info.value) == (
        "garage.yaml:5: networks[0].network_limit_a: 30 A is below 6 A x 6 chargers = 36 A"
    )
