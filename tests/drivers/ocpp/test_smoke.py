import asyncio

from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.drivers.ocpp import CentralSystem, OcppChargerDriver
from panelpilot.drivers.ocpp.simulator import SimulatedChargePoint
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD


def test_one_charger_gets_its_limit(store, clock) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            cp = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await cp.connect()
            driver = OcppChargerDriver(
                central, OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1"), 48
            )
            await cp.plug_in()
            reading = await driver.read()
            print(reading)
            await driver.apply(ChargerDecision(20, 13.3, ChargerStatus.CHARGING, 20, 30))
            print(cp.limit_a(), await driver.read())
            clock.advance(31)
            print(cp.limit_a(), await driver.read())
            await cp.close()

    asyncio.run(scenario())
