"""The `drivers:` section: one model per kind, chosen by `kind:`, errors located."""

import pytest

from panelpilot.site import SiteFileError, load_site_text
from panelpilot.site.drivers import OcppDriverConfig, SunSpecDriverConfig, TeslaWcDriverConfig

SITE = """\
circuits:
  - id: garage
    limit_a: 80
    meter: m1
chargers:
  - {id: wc1, circuit: garage, max_a: 48}
drivers:
"""


def test_each_kind_loads_into_its_own_model() -> None:
    site = load_site_text(
        SITE
        + "  - {kind: ocpp, device: wc1, charge_point_id: WC-0001}\n"
        + "  - {kind: sunspec, device: m1, host: 127.0.0.1, port: 1502, unit_id: 3}\n"
        + "  - {kind: tesla_wc, device: wc1, host: 127.0.0.1}\n"
        + "  - {kind: sim, device: wc1}\n"
    )
    ocpp, sunspec, tesla, _ = site.drivers
    assert isinstance(ocpp, OcppDriverConfig)
    assert ocpp.identity == "WC-0001" and ocpp.connector_id == 1
    assert isinstance(sunspec, SunSpecDriverConfig) and sunspec.unit_id == 3
    assert isinstance(tesla, TeslaWcDriverConfig) and tesla.port == 80


def test_ocpp_identity_defaults_to_the_device_id() -> None:
    site = load_site_text(SITE + "  - {kind: ocpp, device: wc1}\n")
    (ocpp,) = site.drivers
    assert isinstance(ocpp, OcppDriverConfig) and ocpp.identity == "wc1"


@pytest.mark.parametrize(
    "entry",
    [
        "  - {kind: modbus, device: wc1}\n",
        "  - {kind: ocpp, device: wc1, connector_id: 0}\n",
        "  - {kind: ocpp, device: wc1, password: secret}\n",
    ],
)
def test_unknown_kinds_and_bad_fields_are_located_errors(entry: str) -> None:
    with pytest.raises(SiteFileError) as info:
        load_site_text(SITE + entry, "g.yaml")
    assert str(info.value).startswith("g.yaml:8: drivers[0]")
