"""Who may do what: the one table of roles, checked by the service, never by the web.

A change (or opening a page that exists to make one) names its `Rule`; `check` raises
`Forbidden` with what is needed. The web only maps `Forbidden` to its 403 page or JSON, so a
new role or a new rule is a line here, and the pages, the API and the CLI all obey it.
"""

from __future__ import annotations

from dataclasses import dataclass

from panelpilot.service.accounts import Role


class Forbidden(Exception):
    """The signed-in person may not make this change; says what is needed."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, and the license number they entered (qualified personnel)."""

    name: str
    role: Role
    license_number: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """What an action needs: a role, and (for PCS limits) a license number entered."""

    role: Role
    refusal: str  # said to anyone without the role
    needs_license: bool = False
    no_license: str = ""  # said to someone with the role but without a license number


# Seed: power sharing is commissioned by the installer; PCS limits are changed only by
# qualified personnel, who enter their license number first.
CHANGE_NETWORK = Rule("installer", "only an installer may change power sharing settings")
OPEN_PCS = Rule(
    "installer",
    "PCS settings may be changed only by qualified personnel "
    "(an installer account with a license number).",
)
ENTER_LICENSE = OPEN_PCS
CHANGE_PCS = Rule(
    "installer",
    "only qualified personnel (an installer) may change PCS settings",
    needs_license=True,
    no_license="enter your license number before changing PCS settings",
)


def check(actor: Actor, rule: Rule) -> None:
    """Raise `Forbidden` (saying what is needed) unless `actor` may do what `rule` guards."""
    if actor.role != rule.role:
        raise Forbidden(rule.refusal)
    if rule.needs_license and not actor.license_number:
        raise Forbidden(rule.no_license)


def may(actor: Actor, rule: Rule) -> bool:
    """Whether `actor` has the role `rule` needs (a page shows a control it may not use as
    disabled, saying why, rather than failing after a click)."""
    return actor.role == rule.role
