"""A simulated charge point with a simulated EV, speaking OCPP 1.6J or 2.0.1 over a real socket.

It obeys the composite schedule of the profiles it holds by the OCPP rules (a TxProfile governs
its transaction, TxDefaultProfiles the rest, the station cap everything), evaluated against an
injected clock plus its own offset, so a test can stop the central system, advance the clock
past the lease and see the charger fall back, without sleeping. Optional field habits: a clock
that is off, a strict reading of TxDefaultProfile (fixed when a transaction starts), slow
acknowledgements, watts only, a stack-level limit. Run many in one process with `start_fleet`.
What it answers the central system's calls with is `simulator_handlers.py`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from panelpilot.drivers.base import DeviceIdentity
from panelpilot.drivers.ocpp.identity import boot_notification
from panelpilot.drivers.ocpp.profiles import RateUnit, Version, decode_profile, iso_utc
from panelpilot.drivers.ocpp.schedules import Profile, composite_limit_a
from panelpilot.drivers.ocpp.simulator_handlers import V16Client, V201Client
from panelpilot.field import J1772_MIN_A

LOG = logging.getLogger(__name__)
Clock = Callable[[], float]
# accept: obey the rules; reject: answer Rejected; unsupported: answer NotImplemented;
# ignore: answer Accepted and obey nothing (a charger that lies); reject_tx: refuse TxProfiles.
SmartChargingMode = Literal["accept", "reject", "unsupported", "ignore", "reject_tx"]
# J1772: a pilot below 6 A means "do not charge".


@dataclass(slots=True)
class SimEV:
    """A car: plugged in or not, and the most its on-board charger draws."""

    onboard_max_a: float = 32.0
    plugged: bool = False

    def draw_a(self, limit_a: float) -> float:
        """What it draws under a pilot limit."""
        if not self.plugged or limit_a < J1772_MIN_A:
            return 0.0
        return min(self.onboard_max_a, limit_a)


class SimulatedChargePoint:
    """One charge point (one connector) with its EV."""

    def __init__(
        self,
        charge_point_id: str,
        password: str,
        url: str,
        *,
        clock: Clock,
        version: Version = "1.6",
        unit_max_a: float = 48.0,
        ev: SimEV | None = None,
        smart_charging: SmartChargingMode = "accept",
        validate_schemas: bool = True,
        clock_offset_s: float = 0.0,
        strict_tx_default: bool = False,
        max_stack_level: int = 8,
        rate_units: tuple[RateUnit, ...] = ("A",),
        voltage_v: float = 240.0,
        profile_gate: asyncio.Event | None = None,
        identity: DeviceIdentity | None = None,
    ) -> None:
        """Configure; `connect()` dials the central system.

        With `validate_schemas` (the default) every message either way is checked against the
        OCPP JSON schemas, so the tests prove the central system's payloads are valid; the load
        benchmark turns it off so the simulated fleet does not eat the central system's CPU.
        Its own clock is `clock() + clock_offset_s`. `strict_tx_default`: the TxDefaultProfile
        in force when a transaction starts governs it to the end (changes to it are ignored;
        a TxProfile still applies). It accepts stack levels up to `max_stack_level` and
        schedules in `rate_units` (W through `voltage_v`). With `profile_gate`, each
        SetChargingProfile is answered only once the event is set (a slow charger); its other
        messages go on meanwhile. `identity` is what its BootNotification says.
        """
        self.charge_point_id = charge_point_id
        self.version: Version = version
        self.unit_max_a = unit_max_a
        self.ev = ev or SimEV()
        self.smart_charging: SmartChargingMode = smart_charging
        self.clock = clock
        self.clock_offset_s = clock_offset_s
        self.strict_tx_default = strict_tx_default
        self.max_stack_level = max_stack_level
        self.rate_units = rate_units
        self.voltage_v = voltage_v
        self.profile_gate = profile_gate
        self.validate_schemas = validate_schemas
        self.identity = identity or DeviceIdentity("panelpilot", "SimWC", firmware="sim")
        self.profiles: dict[int, Profile] = {}  # by profile id
        self.profiles_received = 0
        self.received: list[Profile] = []  # every profile accepted, in order
        self.charging = False  # the transaction start was confirmed: the car may draw
        self._tx_defaults_at_start: list[Profile] | None = None
        self.disconnected = asyncio.Event()
        self.ready = asyncio.Event()  # keep_alive: connected and its car re-announced
        self._url, self._password = url, password
        self._connection: ClientConnection | None = None
        self._protocol: V16Client | V201Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._transaction_id: int | str | None = None
        self._seq_no = 0
        self.heartbeat_interval_s = 60.0  # until the central system says otherwise at boot

    # -- what the EV sees -----------------------------------------------------------------

    def now(self) -> float:
        """Its own clock: the injected one plus its offset."""
        return self.clock() + self.clock_offset_s

    def limit_a(self, connector_id: int = 1, t: float | None = None) -> float:
        """The composite limit the pilot advertises now (or at true time `t`)."""
        held = [p for p in self.profiles.values() if p.connector_id in (0, connector_id)]
        strict = self._tx_defaults_at_start if self._transaction_id is not None else None
        return composite_limit_a(
            held,
            (self.clock() if t is None else t) + self.clock_offset_s,
            in_transaction=self._transaction_id is not None,
            unit_max_a=self.unit_max_a,
            tx_defaults=strict,
        )

    def current_a(self) -> float:
        """What the car draws now: nothing until its transaction start is confirmed."""
        return self.ev.draw_a(self.limit_a()) if self.charging else 0.0

    def _transaction_confirmed(self) -> None:
        self.charging = True
        if self.strict_tx_default:  # fixed now, for the whole transaction
            self._tx_defaults_at_start = [
                p for p in self.profiles.values() if p.purpose == "tx_default"
            ]

    def _transaction_over(self) -> None:
        self._transaction_id = None
        self.charging = False
        self._tx_defaults_at_start = None
        # OCPP: a TxProfile lives as long as its transaction.
        self.profiles = {k: p for k, p in self.profiles.items() if p.purpose != "tx"}

    # -- the connection -------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the websocket (raises on refusal), boot, report the connector available."""
        token = base64.b64encode(f"{self.charge_point_id}:{self._password}".encode()).decode()
        subprotocol = "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"
        self._connection = await connect(
            self._url,
            subprotocols=[subprotocol],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Basic {token}"},
            open_timeout=30,
            compression=None,
        )
        self.disconnected.clear()
        owner = self
        if self.version == "1.6":
            self._protocol = V16Client(owner, self._connection)
        else:
            self._protocol = V201Client(owner, self._connection)
        self._reader = asyncio.create_task(self._read_loop(self._protocol))
        await self._boot()
        await self._status("Available")

    async def keep_alive(
        self,
        meter_period_s: float = 10.0,
        retry_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Run like a real charger until cancelled (demo): report, heartbeat, reconnect.

        It waits with `sleep`: real time by default (what a charger does on its own, not a
        test's clock); the demo passes its own clock's, so `--speed` speeds the chargers up too.
        """
        while True:
            try:
                if self._connection is None or self.disconnected.is_set():
                    await self.connect()
                    if self.ev.plugged:
                        await self.plug_in()
                    self.ready.set()
                since_heartbeat_s = 0.0
                while not self.disconnected.is_set():
                    await sleep(meter_period_s)
                    since_heartbeat_s += meter_period_s
                    if self.ev.plugged:
                        await self.send_meter_values()
                    if since_heartbeat_s >= self.heartbeat_interval_s:
                        await self.heartbeat()
                        since_heartbeat_s = 0.0
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as error:
                LOG.info("%s: %s; retrying in %g s", self.charge_point_id, error, retry_s)
                self.disconnected.set()
                await sleep(retry_s)

    async def close(self) -> None:
        """Close the websocket."""
        if self._connection is not None:
            await self._connection.close()
        if self._reader is not None:
            await self._reader

    async def _read_loop(self, protocol: Any) -> None:
        try:
            await protocol.start()
        except ConnectionClosed:
            pass
        finally:
            self.ready.clear()
            self.disconnected.set()

    async def _call(self, payload: Any) -> Any:
        if self._protocol is None:
            raise RuntimeError("not connected")
        return await self._protocol.call(
            payload, suppress=False, skip_schema_validation=not self.validate_schemas
        )

    # -- what a charge point tells the central system --------------------------------------

    async def _boot(self) -> None:
        await self._call(boot_notification(self.version, self.identity))

    async def _status(self, status: str) -> None:
        now = iso_utc(self.now())
        if self.version == "1.6":
            await self._call(v16_call.StatusNotification(1, "NoError", status, timestamp=now))
        else:
            connector_status = "Available" if status == "Available" else "Occupied"
            await self._call(v201_call.StatusNotification(now, connector_status, 1, 1))

    async def heartbeat(self) -> None:
        """Send a Heartbeat."""
        payload = v16_call.Heartbeat() if self.version == "1.6" else v201_call.Heartbeat()
        await self._call(payload)

    async def plug_in(self) -> None:
        """The car is plugged in and a session starts."""
        self.ev.plugged = True
        now = iso_utc(self.now())
        if self.version == "1.6":
            await self._status("Preparing")
            result = await self._call(v16_call.StartTransaction(1, "SIMTAG", 0, now))
            self._transaction_id = int(result.transaction_id)
            self._transaction_confirmed()
            await self._status("Charging")
        else:
            await self._status("Occupied")
            self._seq_no += 1
            self._transaction_id = f"{self.charge_point_id}-tx{self._seq_no}"
            await self._transaction_event("Started", "CablePluggedIn")
            self._transaction_confirmed()
        await self.send_meter_values()

    async def unplug(self) -> None:
        """The session ends and the car leaves."""
        self.ev.plugged = False
        now = iso_utc(self.now())
        if self.version == "1.6" and self._transaction_id is not None:
            await self._call(v16_call.StopTransaction(0, now, int(self._transaction_id)))
        elif self._transaction_id is not None:
            await self._transaction_event("Ended", "EVDeparted")
        self._transaction_over()
        await self._status("Available")

    async def send_meter_values(self) -> None:
        """Report the current the car draws now."""
        # 1.6 samples carry the value as a string and `unit`, 2.0.1 a number and `unit_of_measure`.
        sampled: dict[str, Any] = {"measurand": "Current.Import"}
        if self.version == "1.6":
            sampled |= {"value": f"{self.current_a():.1f}", "unit": "A"}
        else:
            sampled |= {"value": round(self.current_a(), 1), "unit_of_measure": {"unit": "A"}}
        sample = {"timestamp": iso_utc(self.now()), "sampled_value": [sampled]}
        if self.version == "1.6":
            await self._call(v16_call.MeterValues(1, [sample]))
        else:
            await self._call(v201_call.MeterValues(1, [sample]))

    async def _transaction_event(self, event_type: str, trigger: str) -> None:
        self._seq_no += 1
        await self._call(
            v201_call.TransactionEvent(
                event_type=event_type,
                timestamp=iso_utc(self.now()),
                trigger_reason=trigger,
                seq_no=self._seq_no,
                transaction_info={"transaction_id": str(self._transaction_id)},
                evse={"id": 1, "connector_id": 1},
            )
        )

    # -- what the central system asks ------------------------------------------------------

    def set_profile(self, connector_id: int, data: dict[str, Any]) -> str:
        """Store a received profile by the OCPP rules; the answer status."""
        self.profiles_received += 1
        if self.smart_charging == "unsupported":
            raise OcppNotImplemented(details={"cause": "smart charging not supported"})
        if self.smart_charging == "reject":
            return "Rejected"
        try:
            profile = decode_profile(self.version, connector_id, data, voltage_v=self.voltage_v)
        except (ValueError, KeyError, TypeError):
            return "Rejected"
        schedule = data["charging_schedule"]
        unit = (schedule[0] if isinstance(schedule, list) else schedule)["charging_rate_unit"]
        if unit not in self.rate_units or not 0 <= profile.stack_level <= self.max_stack_level:
            return "Rejected"
        if profile.purpose == "tx":
            # A TxProfile needs a connector and the transaction running on it.
            if self.smart_charging == "reject_tx" or connector_id == 0:
                return "Rejected"
            if self._transaction_id is None or profile.transaction_id != str(self._transaction_id):
                return "Rejected"
        elif profile.purpose == "max" and connector_id != 0:
            return "Rejected"
        self.received.append(profile)
        if self.smart_charging == "ignore":
            return "Accepted"
        # The same id, or the same stack level and purpose on the connector, is replaced.
        self.profiles = {
            k: p
            for k, p in self.profiles.items()
            if p.profile_id != profile.profile_id
            and (p.connector_id, p.purpose, p.stack_level)
            != (profile.connector_id, profile.purpose, profile.stack_level)
        }
        self.profiles[profile.profile_id] = profile
        return "Accepted"

    def clear_profile(self, profile_id: int | None) -> str:
        """ClearChargingProfile by id (the only form panelpilot uses); the answer status."""
        if profile_id is None or profile_id not in self.profiles:
            return "Unknown"
        del self.profiles[profile_id]
        return "Accepted"

    async def answer_profile(self, connector_id: int, data: dict[str, Any]) -> str:
        """A SetChargingProfile answer, once the gate (if any) is open."""
        if self.profile_gate is not None:
            await self.profile_gate.wait()
        return self.set_profile(connector_id, data)


async def start_fleet(
    charge_points: Iterable[SimulatedChargePoint], *, concurrency: int = 50
) -> list[SimulatedChargePoint]:
    """Connect many simulated charge points at once (at most `concurrency` handshakes in flight)."""
    fleet = list(charge_points)
    slots = asyncio.Semaphore(concurrency)

    async def one(cp: SimulatedChargePoint) -> None:
        async with slots:
            await cp.connect()

    await asyncio.gather(*(one(cp) for cp in fleet))
    return fleet


async def stop_fleet(fleet: Iterable[SimulatedChargePoint]) -> None:
    """Close every simulated charge point."""
    await asyncio.gather(*(cp.close() for cp in fleet), return_exceptions=True)
