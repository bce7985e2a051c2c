"""The page-test record file: one JSON object per line, appended by page tests and drills.

Default location ``var/page-tests.jsonl`` (``var/`` is not committed). Each line::

    {"kind": "page-test" | "drill",        # who wrote it
     "at": "2026-11-02T09:00:00Z",          # when the test page was sent (UTC)
     "service": "checkout",                 # service id the page was sent for
     "delivered": true,                     # an incident was opened by the page
     "delivery_seconds": 1.8,               # send -> incident visible in the REST API
     "acknowledged": true | false | null,   # null when the test did not wait for a human
     "ack_seconds": 142.0 | null,           # send -> first acknowledgement
     "incident_id": "PABC123" | null,
     "scenario": "database-outage" | null,  # drills only
     "error": null | "429 rate limited ..."}  # why delivery failed

Unknown keys are kept by readers and ignored; a missing optional key reads as null.
The page success rate is delivered / recorded within the report window (target: 100 %).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from learning.incidents import parse_time

DEFAULT_RECORD_FILE = Path("var/page-tests.jsonl")


@dataclass(frozen=True)
class PageTestRecord:
    kind: str
    at: datetime
    service: str
    delivered: bool
    delivery_seconds: float | None = None
    acknowledged: bool | None = None
    ack_seconds: float | None = None
    incident_id: str | None = None
    scenario: str | None = None
    error: str | None = None

    def to_line(self) -> str:
        data = asdict(self)
        data["at"] = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps(data, sort_keys=True)


def append_record(path: Path, record: PageTestRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(record.to_line() + "\n")


def parse_records(lines: Iterable[str], source: str = "<records>") -> list[PageTestRecord]:
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            records.append(
                PageTestRecord(
                    kind=str(data["kind"]),
                    at=parse_time(str(data["at"])),
                    service=str(data.get("service", "")),
                    delivered=bool(data["delivered"]),
                    delivery_seconds=data.get("delivery_seconds"),
                    acknowledged=data.get("acknowledged"),
                    ack_seconds=data.get("ack_seconds"),
                    incident_id=data.get("incident_id"),
                    scenario=data.get("scenario"),
                    error=data.get("error"),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{source}:{number}: not a page-test record: {exc}") from None
    return records


def read_records(path: Path) -> list[PageTestRecord]:
    if not path.exists():
        return []
    return parse_records(path.read_text(encoding="utf-8").splitlines(), str(path))
