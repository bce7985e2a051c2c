"""A property-based test of the whole API from its own OpenAPI document: schemathesis
generates valid and invalid requests for every operation and the service, run as operators
run it (granian, RSGI), never answers 5xx."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from live_service import TOKEN, make_config

from statuspage.openapi import openapi_document

# Date-times across the whole range Python can hold, with any offset Alertmanager or a
# person might send, plus the edges that once froze the page: hypothesis' default
# date-times rarely leave the last few decades.
EDGES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1969-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
]
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_any_moment = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    _offsets,
)
schemathesis.openapi.format("date-time", st.one_of(st.sampled_from(EDGES), _any_moment))
schema = schemathesis.openapi.from_dict(openapi_document(make_config()))


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case: schemathesis.Case, granian_url: str) -> None:
    response = case.call(
        base_url=granian_url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=20
    )
    assert response.status_code < 500, (case.method, case.path, case.body, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()


def test_the_document_is_served(granian_url: str) -> None:
    import httpx

    served = httpx.get(f"{granian_url}/api/openapi.json").json()
    assert served["openapi"] == "3.0.3"
    assert "/api/v1/incidents/{id}/publish" in served["paths"]
    assert (
        served["components"]["schemas"]["MaintenanceCreate"]["properties"]["scheduled_for"][
            "format"
        ]
        == "date-time"
    )
