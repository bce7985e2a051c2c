"""The demo app: each fault control changes exactly the signal the generated rules read."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from sandbox.demo_app import DemoFleet, Faults, create_app


def samples(fleet: DemoFleet, service: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = fleet.exposition(service).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(fleet: DemoFleet, service: str, name: str, **labels: str) -> float:
    wanted = tuple(sorted(labels.items()))
    return samples(fleet, service)[(name, wanted)]


@pytest.fixture
def fleet() -> DemoFleet:
    return DemoFleet(["api", "payments"], requests_per_second=100)


def test_error_fraction_is_exact_in_the_request_counters(fleet: DemoFleet) -> None:
    fleet.set_faults("api", {"error_fraction": 0.25})
    fleet.tick(1.0)
    ok = value(fleet, "api", "http_requests_total", method="GET", handler="/", code="200")
    failed = value(fleet, "api", "http_requests_total", method="GET", handler="/", code="500")
    assert (ok, failed) == (75, 25)


def test_latency_lands_between_the_warning_and_critical_bucket_edges(fleet: DemoFleet) -> None:
    fleet.set_faults("api", {"latency_seconds": 4.0})
    fleet.tick(1.0)
    le = {"method": "GET", "handler": "/"}
    assert value(fleet, "api", "http_request_duration_seconds_bucket", le="3.0", **le) == 0
    assert value(fleet, "api", "http_request_duration_seconds_bucket", le="4.0", **le) == 100


def test_database_and_payment_failures_count_only_while_broken(fleet: DemoFleet) -> None:
    fleet.tick(1.0)
    assert value(fleet, "api", "database_connection_failures_total") == 0
    fleet.set_faults("api", {"database_down": True})
    fleet.set_faults("payments", {"payments_failing": True})
    fleet.tick(1.0)
    assert value(fleet, "api", "database_connection_failures_total") == 100
    assert value(fleet, "payments", "payment_failures_total") == 100
    assert value(fleet, "api", "payment_failures_total") == 0


def test_host_pressure_moves_the_node_exporter_series(fleet: DemoFleet) -> None:
    fleet.set_faults(
        "api", {"cpu_fraction": 0.9, "memory_fraction": 0.85, "disk_free_fraction": 0.1}
    )
    fleet.tick(10.0)
    idle = value(fleet, "api", "node_cpu_seconds_total", cpu="0", mode="idle")
    user = value(fleet, "api", "node_cpu_seconds_total", cpu="0", mode="user")
    assert user / (idle + user) == pytest.approx(0.9)
    available = value(fleet, "api", "node_memory_MemAvailable_bytes")
    assert 1 - available / value(fleet, "api", "node_memory_MemTotal_bytes") == pytest.approx(0.85)
    fs = {"device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/"}
    free = value(fleet, "api", "node_filesystem_avail_bytes", **fs)
    assert free / value(fleet, "api", "node_filesystem_size_bytes", **fs) == pytest.approx(0.1)


def test_bad_fault_values_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="error_fraction must be from 0 to 1"):
        Faults().merged({"error_fraction": 2})
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        Faults().merged({"explode": True})
    with pytest.raises(ValueError, match="down must be true or false"):
        Faults().merged({"down": "yes"})


def test_control_endpoint_breaks_and_heals_one_service(fleet: DemoFleet) -> None:
    with TestClient(create_app(fleet)) as client:
        assert client.get("/services/api/health").status_code == 200
        answer = client.put("/_control/api", json={"down": True})
        assert answer.json()["down"] is True
        assert client.get("/services/api/health").status_code == 503
        assert client.get("/services/api/metrics").status_code == 503  # scrape fails: up == 0
        assert client.get("/services/payments/health").status_code == 200
        client.put("/_control/api", json={"database_down": True, "down": False})
        assert client.get("/services/api/health").text == "database unreachable\n"
        client.delete("/_control/api")
        assert client.get("/services/api/health").status_code == 200
        assert client.get("/_control/api").json() == {**Faults().__dict__}


def test_control_endpoint_explains_bad_requests(fleet: DemoFleet) -> None:
    with TestClient(create_app(fleet)) as client:
        bad = client.put("/_control/api", json={"error_fraction": -1})
        assert bad.status_code == 400 and "from 0 to 1" in bad.json()["error"]
        unknown = client.put("/_control/nope", json={"down": True})
        assert unknown.status_code == 404 and unknown.json()["known"] == ["api", "payments"]
