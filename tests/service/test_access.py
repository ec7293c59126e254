"""Who may do what: one table, the same answer for pages, API and commands."""

from __future__ import annotations

import re

import pytest

from panelpilot.service.access import (
    CHANGE_NETWORK,
    CHANGE_PCS,
    ENTER_LICENSE,
    OPEN_PCS,
    Actor,
    Forbidden,
    Rule,
    check,
)

OWNER = Actor("olive", "owner")
INSTALLER = Actor("ivan", "installer")
QUALIFIED = Actor("ivan", "installer", "EC-4711")


@pytest.mark.parametrize(
    ("actor", "rule", "refusal"),
    [
        (OWNER, CHANGE_NETWORK, "only an installer may change power sharing settings"),
        (OWNER, OPEN_PCS, "qualified personnel"),
        (OWNER, ENTER_LICENSE, "qualified personnel"),
        (OWNER, CHANGE_PCS, "only qualified personnel (an installer)"),
        (INSTALLER, CHANGE_PCS, "enter your license number"),
        (INSTALLER, CHANGE_NETWORK, None),
        (INSTALLER, OPEN_PCS, None),
        (QUALIFIED, CHANGE_PCS, None),
    ],
)
def test_each_rule_refuses_saying_what_is_needed(
    actor: Actor, rule: Rule, refusal: str | None
) -> None:
    if refusal is None:
        check(actor, rule)
        return
    with pytest.raises(Forbidden, match=re.escape(refusal)):
        check(actor, rule)


def test_a_license_number_does_not_make_an_owner_qualified() -> None:
    with pytest.raises(Forbidden, match="only qualified personnel"):
        check(Actor("olive", "owner", "EC-4711"), CHANGE_PCS)
