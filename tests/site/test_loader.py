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


def test_a_network_limit_above_its_circuit_is_refused_with_the_numbers() -> None:
    text = """\
circuits:
  - id: service
    limit_a: 160
    children:
      - {id: garage, limit_a: 80, breaker_a: 100}
networks:
  - {id: n, circuit: garage, network_limit_a: 9999}
chargers:
""" + "".join(f"  - {{id: c{i}, circuit: garage, network: n, max_a: 32}}\n" for i in range(4))
    with pytest.raises(SiteFileError) as info:
        load_site_text(text, "garage.yaml")
    assert str(info.value) == (
        "garage.yaml:7: networks[0].network_limit_a: network n: 9999 A is above the 80 A "
        "limit of circuit garage; a network limit must fit its circuit and every circuit "
        "above it (allowed: up to 80 A, circuit garage)"
    )


def test_fallbacks_that_would_overload_a_circuit_without_the_controller_are_refused() -> None:
    # Two networks of 2 x 40 A each under one 100 A feeder: each fits its own circuit, but
    # with the controller gone all four chargers fall back to 40 A: 160 A on 100 A.
    text = """\
circuits:
  - id: feeder
    limit_a: 100
    children:
      - {id: a, limit_a: 80}
      - {id: b, limit_a: 80}
networks:
  - {id: na, circuit: a, network_limit_a: 80}
  - {id: nb, circuit: b, network_limit_a: 80}
chargers:
  - {id: a1, circuit: a, network: na, max_a: 48}
  - {id: a2, circuit: a, network: na, max_a: 48}
  - {id: b1, circuit: b, network: nb, max_a: 48}
  - {id: b2, circuit: b, network: nb, max_a: 48}
"""
    with pytest.raises(SiteFileError) as info:
        load_site_text(text, "feeder.yaml")
    message = str(info.value)
    assert message.startswith("feeder.yaml:3: circuits[0].limit_a: the fallback limits")
    assert "sum to 160 A (a1 40 + a2 40 + b1 40 + b2 40 A), above its 100 A limit" in message
    # Chargers outside networks count with their own fallback; 0 leaves room.
    ok = text.replace("network_limit_a: 80}\n  - {id: nb", "network_limit_a: 40}\n  - {id: nb")
    ok = ok.replace("network_limit_a: 80}\nchargers", "network_limit_a: 40}\nchargers")
    assert load_site_text(ok, "feeder.yaml").networks[0].network_limit_a == 40


def test_a_clock_error_above_a_quarter_of_the_lease_is_refused_with_what_would_fit() -> None:
    text = """\
circuits:
  - {id: panel, limit_a: 40}
chargers:
  - {id: wc1, circuit: panel, max_a: 32}
control:
  lease_s: 30
  clock_skew_s: 10
"""
    with pytest.raises(SiteFileError) as info:
        load_site_text(text, "home.yaml")
    assert str(info.value) == (
        "home.yaml:7: control.clock_skew_s: 10 s is more than a quarter of lease_s (30 s): "
        "every lease would be renewed within a quarter of its life; allowed: 0..7.5 s, or "
        "raise lease_s to at least 40 s"
    )
    assert load_site_text(text.replace("lease_s: 30", "lease_s: 40")).control.lease_s == 40
