"""The local PagerDuty as the Pulumi program would set it up for tests/fixtures/modulo.yaml:
PagerDuty services carry the config services' names; Sam Okafor, then Jordan Lee."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import typer

from irctl.learning import postmortem_app
from sandbox.pagerduty import Clock, EscalationTier, FakePagerDuty, FakePagerDutyServer
from sandbox.pagerduty import ServiceConfig as PdService

# PagerDuty id -> (config service name, urgency)
SERVICES = {
    "PAPI001": ("Public API", "high"),
    "PWEB001": ("Web front end", "high"),
    "PPAYMNT": ("Payments", "high"),
    "PTEST01": ("Paging self-test", "low"),
}


@contextmanager
def modulo_pagerduty(token: str, now: datetime, *ids: str) -> Iterator[FakePagerDutyServer]:
    """A running local PagerDuty with these services and its clock stopped at ``now``."""
    services = [
        PdService(pd_id, SERVICES[pd_id][0], routing_keys=[pd_id[1].lower() * 32],
                  tiers=[EscalationTier(15, ("Sam Okafor",)), EscalationTier(15, ("Jordan Lee",))],
                  urgency=SERVICES[pd_id][1])
        for pd_id in ids
    ]  # fmt: skip
    fake = FakePagerDuty(services, api_tokens=[token], clock=Clock(start=now, speed=0))
    with FakePagerDutyServer(fake) as running:
        yield running


def postmortem_cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(postmortem_app, name="postmortem")
    return root
