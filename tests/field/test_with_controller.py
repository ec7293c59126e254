"""The controller, the OCPP sender's payloads and spec-evaluated field chargers together,
without sockets (issue 11, "What it must show"): clocks off by up to +-10 s and drifting,
strict chargers, cars plugged in at boot, late acknowledgements, links that drop; the
controller killed at a random cycle. What each charger may draw is computed by the field
model from the OCPP payloads it accepted (tests/field/composite.py, written from the spec);
the sum never exceeds the network limit at any sampled instant, from the first second on.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerDecision, ChargerReading, Controller, Snapshot
from panelpilot.drivers.ocpp.profiles import (
    commitment_requests,
    request_json,
    station_cap_request,
)
from panelpilot.site import load_site_text
from tests.field.charger import FieldCharger

TOL = 1e-6


def _site(n: int, limit_a: float) -> str:
    chargers = "".join(
        f"  - {{id: wc{i}, circuit: garage, network: net, max_a: 48}}\n" for i in range(n)
    )
    return (
        f"circuits:\n  - id: garage\n    limit_a: {limit_a}\n"
        f"networks:\n  - {{id: net, circuit: garage, network_limit_a: {limit_a}}}\n"
        f"chargers:\n{chargers}"
    )


@dataclass
class Link:
    """One charger as the central system sees it: what was sent, what it acknowledged."""

    charger: FieldCharger
    delay: int  # cycles before a request reaches it (and its answer comes back)
    online: bool = True
    started: bool = False  # its StartTransaction answered (held until a profile is in force)
    acked_t: float | None = None
    sent: tuple[float, float, float] | None = None
    inbox: list[tuple[int, ChargerDecision, float]] | None = None


@given(
    n=st.integers(2, 5),
    spare=st.integers(0, 30),
    offsets=st.lists(st.floats(-10, 10), min_size=5, max_size=5),
    strict=st.lists(st.booleans(), min_size=5, max_size=5),
    versions=st.lists(st.sampled_from(["1.6", "2.0.1"]), min_size=5, max_size=5),
    delays=st.lists(st.integers(0, 2), min_size=5, max_size=5),
    drops=st.lists(st.tuples(st.integers(0, 90), st.integers(0, 4)), max_size=4),
    kill_at=st.integers(2, 100),
)
@settings(max_examples=25, deadline=None)
def test_field_chargers_never_draw_more_than_the_network_even_when_killed(
    n: int,
    spare: int,
    offsets: list[float],
    strict: list[bool],
    versions: list[str],
    delays: list[int],
    drops: list[tuple[int, int]],
    kill_at: int,
) -> None:
    limit_a = 6 * n + spare
    site = load_site_text(_site(n, limit_a), "site.yaml")
    skew = site.control.clock_skew_s
    controller = Controller(site)
    links = {
        f"wc{i}": Link(
            FieldCharger(
                version=versions[i],  # type: ignore[arg-type]
                max_a=48.0,
                clock_offset_s=offsets[i],
                strict_tx_default=strict[i],
                seed=i,
            ),
            delays[i],
            inbox=[],
        )
        for i in range(n)
    }
    for link in links.values():
        # A car plugged in at boot; the driver holds its StartTransaction until our profile
        # is in force, so it does not draw meanwhile.
        link.charger.boot(0.0)
        cap = station_cap_request(
            48.0,
            send_t=0.0,
            clock_skew_s=skew,
            version=link.charger.version,
            stack_level=0,
        )
        link.charger.set_charging_profile(0.0, request_json(cap))
    end = kill_at + 3 * site.control.lease_s
    t = 0.0
    while t <= end:
        cycle = int(t)
        whole = abs(t - cycle) < 1e-9
        if whole:
            for when, who in drops:
                if when == cycle and who < n:
                    links[f"wc{who}"].online = not links[f"wc{who}"].online
            # What was sent arrives (also after the kill: it is on the wire).
            for link in links.values():
                assert link.inbox is not None
                due = [m for m in link.inbox if m[0] <= cycle]
                link.inbox = [m for m in link.inbox if m[0] > cycle]
                if not link.online:
                    continue
                for _, decision, send_t in due:
                    tx = link.charger.transaction
                    calls = commitment_requests(
                        decision,
                        send_t=send_t,
                        clock_skew_s=skew,
                        connector_id=1,
                        transaction_id=tx.transaction_id if tx is not None else None,
                        version=link.charger.version,
                        stack_level=0,
                    )
                    answers = [link.charger.set_charging_profile(t, request_json(c)) for c in calls]
                    if all(a == "Accepted" for a in answers):
                        link.acked_t = decision.lease_until_t
                        if not link.started:
                            link.started = True
                            link.charger.start_transaction(t, len(link.charger.rejections) + 1)
        if whole and cycle < kill_at:
            readings = {}
            for cid, link in links.items():
                if not link.online:
                    continue
                fc = link.charger
                in_force = fc.effective_limit_a(t)
                readings[cid] = ChargerReading(
                    True,
                    True,
                    fc.may_draw_a(t) if link.started else 0.0,
                    limit_a=in_force if link.acked_t is not None else 48.0,
                    commitment_t=link.acked_t,
                )
            d = controller.decide(Snapshot(t, {}, readings))
            for cid, cd in d.chargers.items():
                link = links[cid]
                triple = (cd.limit_a, cd.fallback_a, cd.lease_until_t)
                if cid in readings and triple != link.sent:
                    link.sent = triple
                    assert link.inbox is not None
                    link.inbox.append((cycle + link.delay, cd, t))
        total = sum(link.charger.may_draw_a(t) for link in links.values())
        assert total <= limit_a + TOL, (t, total, [k.charger.may_draw_a(t) for k in links.values()])
        t += 0.5
