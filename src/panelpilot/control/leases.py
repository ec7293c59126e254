"""Step 8 of a cycle: the commitments to send, and when leases end and fall due.

A commitment that adds to what a charger may draw at some future instant is sent only if every
constraint above it keeps the sum of its chargers' envelopes within its capacity wherever it
adds (on a metered circuit whose other loads leave less than the chargers' fallbacks, within
those fallbacks: what the circuit carries anyway once leases lapse). Otherwise the charger gets
the most of its change that adds nothing: the new limit on its old lease, or its old limit;
and the chargers below their fallback on that constraint renew now, so that their rise moves
out of the way of the next cycle's try ([control.md](../../../docs/control.md), section 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from panelpilot.control.commitments import (
    Bounds,
    Commitment,
    Steps,
    StepSum,
    adds_over,
    difference,
    envelope,
    final_a,
    peak_a,
    with_new,
)
from panelpilot.control.layout import Layout
from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.control.tolerances import EPS
from panelpilot.site.model import ControlSettings

# Lease ends of one charger's commitments differ by at least this (s), so each is named by it.
DISTINCT_S = 0.001


@dataclass(frozen=True, slots=True)
class Job:
    """What the commit step works on. `limits` (each listening charger's new limit) and
    `envelopes` (what each charger may draw from `t` on, silent ones already in) are updated
    in place as commitments are decided."""

    t: float
    chargers: Mapping[str, ChargerMemory]
    claims: Sequence[Claim]
    limits: dict[str, float]
    fallbacks: Mapping[str, float]
    envelopes: dict[str, Steps]
    defiant: Mapping[str, float]
    caps: Sequence[float]  # per constraint, before reservations
    layout: Layout


@dataclass(frozen=True, slots=True)
class Sent:
    """What `Leases.commit` decided: the commitments to send, each charger's limit as sent
    (or kept), and whether a change was wanted but could not be sent yet (it is tried again
    next cycle, so such a cycle is never steady)."""

    commitments: dict[str, Commitment]
    limits: dict[str, float]
    pending: bool


def same(a: Commitment, b: Commitment) -> bool:
    """Whether two commitments tell a charger the same thing."""
    return (
        abs(a.limit_a - b.limit_a) <= EPS
        and abs(a.fallback_a - b.fallback_a) <= EPS
        and a.until_t == b.until_t
    )


def distinct(c: Commitment, held: tuple[Commitment, ...]) -> Commitment:
    """`c` with a lease end no commitment in `held` has, moved by a millisecond at a time to
    the safe side (earlier where the fallback is lower, later where it is higher): a
    charger's acknowledgement names the commitment by its lease end."""
    ends = {h.until_t for h in held}
    until = c.until_t
    step = -DISTINCT_S if c.limit_a > c.fallback_a else DISTINCT_S
    while until in ends:
        until = round(until + step, 6)
    return c if until == c.until_t else c._replace(until_t=until)


class Leases:
    """Lease timing for one site's settings, and the commit step."""

    def __init__(self, cfg: ControlSettings) -> None:
        self.cfg = cfg
        self.bounds = Bounds(cfg.clock_skew_s, cfg.response_s)
        # A charger whose limit is below its fallback gets a longer lease, so that its rise to
        # the fallback comes after every lower-at-lease-end charger renewed up to two cycles
        # later has come down: both sides of the clock error and the car's response apart.
        self.low_extra_s = 2 * cfg.clock_skew_s + cfg.response_s + 2 * cfg.period_s
        # Lease ends fall on a grid, so chargers renew together and a settled site has long
        # stretches with nothing to renew.
        self.grid_s = cfg.lease_s / 4
        # How long before its end a lease falls due (`renewal_due_t`), for a charger at or
        # above its fallback and for one below it (the same sums, made once).
        self._due_left_s = cfg.lease_s / 2 + cfg.clock_skew_s
        self._due_left_low_s = self._due_left_s + self.low_extra_s
        # Each charger's envelope as last computed, by the commitments it was computed for:
        # until its first step, the same function of time (see `held_envelope`).
        self._envelopes: dict[str, tuple[tuple[Commitment, ...], Steps]] = {}

    def held_envelope(self, cid: str, held: tuple[Commitment, ...], t: float) -> Steps:
        """`envelope(held, t)`, from the last one computed for `cid` where that is still the
        same function of time: the same commitments, and `t` before its first step (the
        envelope from `t` on is then that one's, restarted at `t`)."""
        cached = self._envelopes.get(cid)
        if cached is not None and cached[0] is held:
            steps = cached[1]
            if len(steps) == 1:
                return steps if steps[0][0] == t else ((t, steps[0][1]),)
            if t < steps[1][0]:
                return ((t, steps[0][1]), *steps[1:])
        steps = envelope(held, t, self.bounds)
        self._envelopes[cid] = (held, steps)
        return steps

    def lease_end(self, t: float, limit_a: float, fallback_a: float) -> float:
        """A fresh lease's end: on the grid, later for a charger below its fallback."""
        grid = self.grid_s
        until = math.ceil((t + self.cfg.lease_s) / grid - 1e-9) * grid
        return until + self.low_extra_s if limit_a < fallback_a - EPS else until

    def renewal_due_t(self, c: Commitment) -> float:
        """When a lease falls due for renewal (never, where nothing changes at its end): with
        the clock error on top of half a lease left, one that lapses even on a charger whose
        clock runs fast is renewed in time."""
        limit, fallback = c.limit_a, c.fallback_a
        if abs(limit - fallback) <= EPS:
            return math.inf
        return c.until_t - (self._due_left_low_s if limit < fallback else self._due_left_s)

    def lapsed_t(self, first_t: float) -> float:
        """When every commitment an earlier controller process can have sent has lapsed."""
        cfg = self.cfg
        return (
            first_t
            + cfg.lease_s
            + self.grid_s
            + self.low_extra_s
            + cfg.clock_skew_s
            + cfg.response_s
        )

    def silent_envelope(
        self,
        cid: str,
        mem: ChargerMemory,
        max_a: float,
        fallback_a: float,
        t: float,
        first_t: float,
    ) -> Steps:
        """What a silent charger may draw from `t` on: what its commitments allow. One not
        heard from since this controller started may hold a commitment of an earlier one, up
        to its max until that could have lapsed, then (at most) its fallback."""
        if mem.held:
            return self.held_envelope(cid, mem.held, t)
        lapsed = self.lapsed_t(first_t)
        if t < lapsed:
            return ((t, max_a), (lapsed, fallback_a))
        return ((t, fallback_a),)

    def _tries(
        self, mem: ChargerMemory, new_l: float, new_f: float, t: float, due_by: float
    ) -> list[Commitment] | None:
        """The commitments to try for a charger, best first (None: nothing to send); a lease
        that falls due by `due_by` is renewed."""
        newest = mem.held[-1] if mem.held else None
        due = newest is None or due_by >= self.renewal_due_t(newest)
        if (
            newest is not None
            and not due
            and abs(newest.limit_a - new_l) <= EPS
            and abs(newest.fallback_a - new_f) <= EPS
        ):
            return None
        fresh = Commitment(new_l, new_f, self.lease_end(t, new_l, new_f), t)
        if newest is None:
            return [fresh]
        if due and abs(newest.limit_a - new_l) <= EPS and abs(newest.fallback_a - new_f) <= EPS:
            # A renewal: every try after the fresh lease is what the charger holds.
            first = fresh if same(fresh, newest) else distinct(fresh, mem.held)
            return [first, Commitment(new_l, new_f, newest.until_t, t)]
        # What else to try: the change on its old lease, the new limit with the old fallback
        # (a decrease always gets this far: it adds nothing), the old limit with the new
        # fallback. Best first: a fresh lease when one is due or for a decrease below the
        # fallback (safe either way), else the old lease's end.
        kept = [
            Commitment(new_l, new_f, newest.until_t, t),
            Commitment(new_l, newest.fallback_a, newest.until_t, t),
            Commitment(newest.limit_a, new_f, newest.until_t, t),
        ]
        if due or (new_l < newest.limit_a - EPS and new_l < new_f - EPS):
            tries = [fresh, *kept]
        else:
            tries = [kept[0], fresh, *kept[1:]]
        return [p if same(p, newest) else distinct(p, mem.held) for p in tries]

    def _send_safe(
        self,
        cid: str,
        mem: ChargerMemory,
        tries: list[Commitment],
        t: float,
        limits: dict[str, float],
        envelopes: dict[str, Steps],
    ) -> tuple[Commitment | None, list[tuple[Commitment, Steps]]]:
        """The first try that adds nothing to what the charger may draw (sent at once, None
        when that is what it holds), and the better tries before it, which add and must wait
        for `_fit` (each with the envelope the charger would have with it). `limits` gets what
        the charger is left with."""
        newest = mem.held[-1] if mem.held else None
        old = self.held_envelope(cid, mem.held, t)
        adding: list[tuple[Commitment, Steps]] = []
        for proposal in tries:
            if newest is not None and same(proposal, newest):
                limits[cid] = newest.limit_a  # nothing to send: keep what it has
                return None, adding
            new = with_new(old, proposal, t, self.bounds)
            if not adds_over(new, old):
                envelopes[cid] = new
                limits[cid] = proposal.limit_a
                return proposal, adding  # the better tries add: they may still fit
            adding.append((proposal, new))
        if newest is not None:
            limits[cid] = newest.limit_a
        return None, adding

    def _work(self, job: Job) -> tuple[list[str], float, set[str]]:
        """The chargers whose commitment may change this cycle, in the claims' order; the
        time by which a lease due is renewed; and the chargers renewed early. In a cycle that
        renews a lease, every lease that falls due within `grid_s` is renewed with it (if it
        fits after everything else), so the site's leases fall due together: one round of
        renewals, not one per lease."""
        t, chargers, limits, fallbacks = job.t, job.chargers, job.limits, job.fallbacks
        soon_t = t + self.grid_s
        work: list[tuple[str, bool]] = []  # (charger, only when another renews now)
        renewing = False
        for claim in job.claims:
            cid = claim.key
            held = chargers[cid].held
            if not held:
                work.append((cid, False))
                continue
            newest = held[-1]
            due_t = self.renewal_due_t(newest)
            if due_t <= t:
                renewing = True
            elif (
                abs(newest.limit_a - limits[cid]) <= EPS
                and abs(newest.fallback_a - fallbacks[cid]) <= EPS
            ):
                if due_t <= soon_t:
                    work.append((cid, True))
                continue  # the common case: the newest commitment says this, not due yet
            work.append((cid, False))
        if renewing:
            return [cid for cid, _ in work], soon_t, {cid for cid, early in work if early}
        return [cid for cid, early in work if not early], t, set()

    def commit(self, job: Job) -> Sent:
        """The commitments to send this cycle (see the module's docstring)."""
        t, chargers, limits, fallbacks = job.t, job.chargers, job.limits, job.fallbacks
        out: dict[str, Commitment] = {}
        adding: list[tuple[str, list[tuple[Commitment, Steps]]]] = []
        work, due_by, early = self._work(job)
        for cid in work:
            mem = chargers[cid]
            tries = self._tries(mem, limits[cid], fallbacks[cid], t, due_by)
            if tries is None:
                continue
            sent, waiting = self._send_safe(cid, mem, tries, t, limits, job.envelopes)
            if sent is not None:
                out[cid] = sent
            if waiting:
                adding.append((cid, waiting))
        for cid in job.defiant:
            if not chargers[cid].held:  # a first commitment, safe under what it is counted at
                f = fallbacks[cid]
                out[cid] = Commitment(0.0, f, self.lease_end(t, 0.0, f), t)
        if not adding:
            return Sent(out, limits, False)
        return Sent(out, limits, not self._fit(job, adding, out, early))

    def _fit(
        self,
        job: Job,
        adding: list[tuple[str, list[tuple[Commitment, Steps]]]],
        out: dict[str, Commitment],
        early: set[str],
    ) -> bool:
        """Send each change that adds where every constraint above it still has room; whether
        every one was sent."""
        t, chargers, envelopes = job.t, job.chargers, job.envelopes
        sums, bound = self._sums(job, adding)
        # Renewals due first (a lapse drops a car to its fallback), then raises, then the
        # renewals made early (one that does not fit is made when it falls due).
        adding.sort(
            key=lambda item: (
                2
                if item[0] in early
                else abs(item[1][0][0].limit_a - chargers[item[0]].limit_a) > EPS
            )
        )
        refused: set[int] = set()
        every = True
        for cid, tries in adding:
            ks = job.layout.constraints[cid]
            base = envelopes[cid] if cid in out else self.held_envelope(cid, chargers[cid].held, t)
            for proposal, new in tries:
                delta = difference(new, base)
                misfits = [k for k in ks if not sums[k].fits(delta, bound[k])]
                if not misfits:
                    for k in ks:
                        sums[k].add(delta)
                    out[cid] = proposal
                    envelopes[cid] = new
                    job.limits[cid] = proposal.limit_a
                    break
                if cid not in early:
                    refused.update(misfits)
            else:
                every = False
        self._renew_lows(job, refused, out)
        return every

    def _sums(
        self, job: Job, adding: list[tuple[str, list[tuple[Commitment, Steps]]]]
    ) -> tuple[dict[int, StepSum], dict[int, float]]:
        """The sums, over every constraint a change touches, of what every charger may draw
        with this cycle's changes that add nothing; and the capacity each is held to."""
        sums: dict[int, StepSum] = {}
        bound: dict[int, float] = {}
        layout, caps = job.layout, job.caps
        for cid, _ in adding:
            for k in layout.constraints[cid]:
                if k in sums:
                    continue
                members = layout.members[k]
                envs = [self._envelope_now(c, job) for c in members]
                sums[k] = StepSum(job.t, envs)
                bound[k] = caps[k]
                if k < layout.circuits:
                    bound[k] = max(
                        caps[k],
                        sum(
                            job.fallbacks.get(c, final_a(e))
                            for c, e in zip(members, envs, strict=True)
                        ),
                    )
        return sums, bound

    def _renew_lows(self, job: Job, refused: set[int], out: dict[str, Commitment]) -> None:
        """Renew now the chargers below their fallback on each constraint that refused."""
        t = job.t
        fresh_low = self.lease_end(t, 0.0, 1.0)
        for k in refused:
            for cid in job.layout.members[k]:
                mem = job.chargers[cid]
                newest = mem.held[-1] if mem.held else None
                if (
                    cid in out
                    or cid not in job.limits
                    or newest is None
                    or newest.limit_a >= newest.fallback_a - EPS
                    or newest.until_t >= fresh_low - EPS
                ):
                    continue
                out[cid] = distinct(
                    Commitment(newest.limit_a, newest.fallback_a, fresh_low, t), mem.held
                )

    def _envelope_now(self, cid: str, job: Job) -> Steps:
        env = job.envelopes.get(cid)
        if env is None:
            env = job.envelopes[cid] = self.held_envelope(cid, job.chargers[cid].held, job.t)
        if cid in job.defiant:
            return ((job.t, max(job.defiant[cid], peak_a(env))),)
        return env
