"""Escalation ladders: from "tier N is paged `after` since trigger" to PagerDuty rules.

PagerDuty's `escalation_delay_in_minutes` is the time an unacknowledged incident waits at a
rule before moving AWAY from it, and the timer restarts at each rule. People think in
cumulative times ("the manager after 30 minutes"), so the config says `after` and this module
converts: afters 0/15/30/60 become delays 15, 15, 30 and then `loop_after` for the last rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from orgconfig.model import EscalationPolicy


@dataclass(frozen=True)
class Rule:
    """One PagerDuty escalation rule: whom to notify and how long before moving on."""

    delay_minutes: int
    targets: tuple[tuple[str, str], ...]  # (kind, config id): ("schedule", "platform-primary")


def rule_delays(afters: list[timedelta], loop_after: timedelta) -> list[int]:
    """Per-rule delays in whole minutes from cumulative `after` times.

    >>> rule_delays([timedelta(0), timedelta(minutes=15), timedelta(minutes=30),
    ...              timedelta(hours=1)], timedelta(minutes=30))
    [15, 15, 30, 30]
    """
    if not afters or afters[0] != timedelta(0):
        raise ValueError("the first tier must be at 0")
    ends = [*afters[1:], afters[-1] + loop_after]
    delays = [
        int((end - start).total_seconds() // 60) for start, end in zip(afters, ends, strict=True)
    ]
    if any(d < 1 for d in delays):
        raise ValueError(f"every delay must be at least 1 minute, got {delays}")
    return delays


def cumulative_afters(delays: list[int]) -> list[timedelta]:
    """The inverse of `rule_delays` (without the last delay): when each tier is first paged."""
    afters = [timedelta(0)]
    for delay in delays[:-1]:
        afters.append(afters[-1] + timedelta(minutes=delay))
    return afters


def rules(policy: EscalationPolicy) -> list[Rule]:
    delays = rule_delays([t.after for t in policy.tiers], policy.loop_after)
    return [
        Rule(delay, tuple((target.kind, target.ref) for target in tier.targets))
        for tier, delay in zip(policy.tiers, delays, strict=True)
    ]
