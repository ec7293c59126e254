"""The settings lock: a network's limit and members change only while it is disabled."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from panelpilot.control import Command, Controller, Snapshot
from panelpilot.site import load_site_text
from tests.control.harness import network_site

SIZE = 4


@given(
    commands=st.lists(
        st.one_of(
            st.builds(Command, network=st.just("net"), enabled=st.booleans()),
            st.builds(
                Command, network=st.just("net"), network_limit_a=st.integers(-10, 300).map(float)
            ),
            st.builds(Command, network=st.just("net"), remove=st.sampled_from(["wc1", "wc2"])),
            st.builds(Command, network=st.just("net"), add=st.sampled_from(["wc1", "wc2"])),
            st.builds(Command, network=st.just("nope"), enabled=st.just(False)),
        ),
        max_size=12,
    )
)
@settings(max_examples=200, deadline=None)
def test_limit_and_members_change_only_while_disabled(commands: list[Command]) -> None:
    controller = Controller(network_site(80, SIZE, 32))
    for t, cmd in enumerate(commands, start=1):
        net = controller.state.networks["net"]
        before = (net.enabled, net.limit_a, net.members)
        d = controller.decide(Snapshot(float(t), {"site": 0.0}, commands=(cmd,)))
        net = controller.state.networks["net"]
        after = (net.enabled, net.limit_a, net.members)
        rejected = any(a.code == "setting_rejected" for a in d.alerts)
        changes_settings = cmd.enabled is None
        if cmd.network != "net":
            assert rejected and after == before
        elif changes_settings and before[0]:
            # Enabled: any change of limit or members is refused, nothing changes.
            assert rejected and after == before
        if not rejected and changes_settings:
            assert not before[0]
        # Whatever happened, an enabled network's limit gives every member 6 A.
        if after[0]:
            assert after[1] is not None and after[1] >= 6 * len(after[2])
        assert d.networks["net"].limit_a == (after[1] or 0.0)
        assert d.networks["net"].size == len(after[2])


def test_the_settings_lock_refuses_a_network_limit_above_its_circuit() -> None:
    site = load_site_text(
        """
circuits:
  - id: service
    limit_a: 160
    children:
      - {id: garage, limit_a: 80, breaker_a: 100}
networks:
  - {id: n, circuit: garage, network_limit_a: 80, enabled: false}
chargers:
"""
        + "".join(f"  - {{id: c{i}, circuit: garage, network: n, max_a: 32}}\n" for i in range(4)),
        "garage.yaml",
    )
    controller = Controller(site)
    d = controller.decide(Snapshot(t=0, commands=(Command("n", network_limit_a=9999),)))
    refused = [a for a in d.alerts if a.code == "setting_rejected"]
    assert refused and "9999 A is above the 80 A limit of circuit garage" in refused[0].message
    assert controller.state.networks["n"].limit_a == 80
    assert d.chargers["c0"].fallback_a == 20.0  # 80 A / 4, never 32 A x 4 = 128 A
