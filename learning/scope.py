"""Which incidents are real pages: test and drill services are known from the org config.

A paging incident is high urgency, on a service that is not listed in
``learning.test_services``, and not a ``[DRILL]`` incident. Only paging incidents count in
MTTA/MTTR and need a postmortem; the others are evidence that paging works (page success).
PagerDuty services are matched to config services by name (the Pulumi program names them
so) or by id (the local PagerDuty double uses config ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from learning.incidents import IncidentRecord
from orgconfig.model import OrgConfig

DRILL_MARK = "[DRILL]"  # the title prefix of `irctl drill --live` incidents


@dataclass(frozen=True)
class IncidentScope:
    test_services: frozenset[str]  # lower-case names and ids

    @classmethod
    def from_org(cls, org: OrgConfig | None) -> IncidentScope:
        if org is None:
            return cls(frozenset())
        keys: set[str] = set()
        for service_id in org.learning.test_services:
            keys |= {service_id.lower(), org.service(service_id).name.lower()}
        return cls(frozenset(keys))

    def is_test(self, record: IncidentRecord) -> bool:
        return (
            record.service_name.lower() in self.test_services
            or record.service_id.lower() in self.test_services
            or record.title.startswith(DRILL_MARK)
        )

    def is_paging(self, record: IncidentRecord) -> bool:
        return record.urgency == "high" and not self.is_test(record)

    def split(
        self, records: Iterable[IncidentRecord]
    ) -> tuple[list[IncidentRecord], list[IncidentRecord], list[IncidentRecord]]:
        """(paging, test and drill, other low-urgency) incidents."""
        paging, tests, low = [], [], []
        for record in records:
            if self.is_test(record):
                tests.append(record)
            elif record.urgency == "high":
                paging.append(record)
            else:
                low.append(record)
        return paging, tests, low
