"""The simulated charge point behaves like a real one on its own: it reports and reconnects."""

from __future__ import annotations

import asyncio
import contextlib

from panelpilot.drivers.ocpp import CentralSystem, CredentialStore
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from tests.drivers.ocpp.conftest import PASSWORD, ManualClock


def test_keep_alive_reports_and_reconnects_to_a_restarted_central_system(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        central = CentralSystem(store, clock=clock)
        await central.start()
        port = central.port
        cp = SimulatedChargePoint(
            "cp1", PASSWORD, central.url("cp1"), clock=clock, ev=SimEV(16, plugged=True)
        )
        task = asyncio.create_task(cp.keep_alive(meter_period_s=0.01, retry_s=0.01))
        await cp.ready.wait()
        assert central.state("cp1").connector(1).connected
        await central.stop()
        await cp.disconnected.wait()

        restarted = CentralSystem(store, clock=clock, port=port)
        await restarted.start()
        await restarted.wait_connected("cp1")  # it came back by itself
        await cp.ready.wait()
        assert restarted.state("cp1").connector(1).connected  # and re-announced its car
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await cp.close()
        await restarted.stop()

    asyncio.run(scenario())
