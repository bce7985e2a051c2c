"""A demo application that breaks on command, so the sandbox's alerts have something to see.

One process plays every service of the org config. Each service has its own Prometheus
metrics page (``/services/<id>/metrics``, scraped with a ``service`` target label), a
health endpoint the status page checks (``/services/<id>/health``), and a request endpoint
(``/services/<id>/``). A steady synthetic load (``requests_per_second`` per service) feeds
the request counters and the latency histogram, so the rates the rules read are never
empty and an error fraction is exact rather than random.

Faults are set per service through the control endpoint::

    PUT    /_control/<service>   {"error_fraction": 0.5}   merge these fault settings
    DELETE /_control/<service>                             back to healthy
    GET    /_control                                        every service's faults

The metric names follow the contract the generated rules read (docs/metrics-contract.md):
``http_requests_total{code}``, the ``http_request_duration_seconds`` histogram, counters for
database connection failures and payment attempts/failures, and, as a cluster would report
them for the service's default workload (namespace ``default``, pod ``<id>-5d9f7c6b8-x2x9z``,
PVC ``data-<id>-0``), cAdvisor ``container_cpu_usage_seconds_total`` and
``container_memory_working_set_bytes``, kube-state-metrics ``kube_pod_container_resource_limits``
and kubelet ``kubelet_volume_stats_*``. (The node-exporter series stay for older rules.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from orgconfig.alerting import DEFAULT_WORKLOAD_NAMESPACE

# Buckets with edges at the warning (3 s) and critical (5 s) latency thresholds, so a
# histogram_quantile lands on the right side of each.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
HEALTHY_LATENCY_SECONDS = 0.04
MEMORY_TOTAL_BYTES = 8 * 1024**3
DISK_SIZE_BYTES = 100 * 1024**3
CPUS = 2
HEALTHY_CPU = 0.15
HEALTHY_MEMORY = 0.40
HEALTHY_DISK_FREE = 0.60


@dataclass(frozen=True)
class Faults:
    """What is wrong with one service right now; the defaults are a healthy service."""

    down: bool = False
    latency_seconds: float = 0.0
    error_fraction: float = 0.0
    database_down: bool = False
    payments_failing: bool = False
    cpu_fraction: float | None = None
    memory_fraction: float | None = None
    disk_free_fraction: float | None = None
    # Metric families left out of the exposition (a renamed metric, a broken exporter).
    missing_metrics: list[str] = field(default_factory=list)

    def merged(self, changes: dict[str, Any]) -> Faults:
        """These faults with `changes` applied; raises ValueError naming a bad field."""
        known = {f.name: f for f in fields(self)}
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            if name == "missing_metrics":
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise ValueError(f"{name} must be a list of metric names, got {value!r}")
                values[name] = list(value)
                continue
            if name in ("down", "database_down", "payments_failing"):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false, got {value!r}")
            elif value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{name} must be a number, got {value!r}")
                limit = None if name == "latency_seconds" else 1.0
                if value < 0 or (limit is not None and value > limit):
                    allowed = ">= 0" if limit is None else "from 0 to 1"
                    raise ValueError(f"{name} must be {allowed}, got {value!r}")
                value = float(value)
            elif name not in ("cpu_fraction", "memory_fraction", "disk_free_fraction"):
                raise ValueError(f"{name} cannot be null")
            values[name] = value
        return replace(self, **values)

    @property
    def healthy(self) -> bool:
        return self == Faults()


class ServiceSignals:
    """The metrics of one service and the bookkeeping that keeps its error ratio exact."""

    def __init__(self, service_id: str) -> None:
        self.service_id = service_id
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests served, by status code",
            ["method", "handler", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time spent serving HTTP requests",
            ["method", "handler"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.db_failures = Counter(
            "database_connection_failures",
            "Attempts to get a database connection that failed",
            registry=self.registry,
        )
        self.db_attempts = Counter(
            "database_connection_attempts",
            "Attempts to get a database connection",
            registry=self.registry,
        )
        self.payment_failures = Counter(
            "payment_failures",
            "Payments that failed to process",
            registry=self.registry,
        )
        self.payment_attempts = Counter(
            "payment_attempts",
            "Payments attempted",
            registry=self.registry,
        )
        self.payments = Counter(
            "payments_processed",
            "Payments attempted, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.cpu = Counter(
            "node_cpu_seconds",
            "Seconds the CPUs spent in each mode",
            ["cpu", "mode"],
            registry=self.registry,
        )
        self.mem_total = Gauge(
            "node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.",
            registry=self.registry,
        )  # fmt: skip
        self.mem_available = Gauge(
            "node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.",
            registry=self.registry,
        )  # fmt: skip
        fs_labels = ["device", "fstype", "mountpoint"]
        self.fs_size = Gauge(
            "node_filesystem_size_bytes", "Filesystem size in bytes.", fs_labels,
            registry=self.registry,
        )  # fmt: skip
        self.fs_avail = Gauge(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            fs_labels,
            registry=self.registry,
        )
        # What the cluster reports about the service's workload (labels as the defaults of
        # the `workload` block expect them).
        pod = {"namespace": DEFAULT_WORKLOAD_NAMESPACE, "pod": f"{service_id}-5d9f7c6b8-x2x9z"}
        self.pod_labels = pod
        self.container_cpu = Counter(
            "container_cpu_usage_seconds",
            "Cumulative cpu time consumed in seconds (cAdvisor).",
            ["namespace", "pod", "container"],
            registry=self.registry,
        )
        self.container_memory = Gauge(
            "container_memory_working_set_bytes",
            "Current working set in bytes (cAdvisor).",
            ["namespace", "pod", "container"],
            registry=self.registry,
        )
        limits = Gauge(
            "kube_pod_container_resource_limits",
            "The number of requested limit resource by a container (kube-state-metrics).",
            ["namespace", "pod", "container", "resource", "unit"],
            registry=self.registry,
        )
        limits.labels(pod["namespace"], pod["pod"], "app", "cpu", "core").set(CPUS)
        limits.labels(pod["namespace"], pod["pod"], "app", "memory", "byte").set(MEMORY_TOTAL_BYTES)
        volume = ["namespace", "persistentvolumeclaim"]
        self.volume_capacity = Gauge(
            "kubelet_volume_stats_capacity_bytes", "Capacity in bytes of the volume (kubelet).",
            volume, registry=self.registry,
        )  # fmt: skip
        self.volume_available = Gauge(
            "kubelet_volume_stats_available_bytes",
            "Number of available bytes in the volume (kubelet).",
            volume,
            registry=self.registry,
        )
        self.claim = (pod["namespace"], f"data-{service_id}-0")
        self.volume_capacity.labels(*self.claim).set(DISK_SIZE_BYTES)
        self.container_cpu.labels(pod["namespace"], pod["pod"], "app")
        self.mem_total.set(MEMORY_TOTAL_BYTES)
        self.fs_size.labels("/dev/vda1", "ext4", "/").set(DISK_SIZE_BYTES)
        self._served = 0
        self._failed = 0
        # Pre-create the label sets the rules divide by, so ratios are 0 rather than empty.
        for code in ("200", "500"):
            self.requests.labels("GET", "/", code)
        self.payments.labels("succeeded")
        self.payments.labels("failed")

    def record_request(self, faults: Faults) -> int:
        """Count one request and return its status code, keeping errors at the exact fraction."""
        self._served += 1
        failing = self._failed < round(self._served * faults.error_fraction)
        if failing:
            self._failed += 1
        code = 500 if failing else 200
        self.requests.labels("GET", "/", str(code)).inc()
        latency = faults.latency_seconds or HEALTHY_LATENCY_SECONDS
        self.duration.labels("GET", "/").observe(latency)
        return code

    def reset_ratio(self) -> None:
        self._served = self._failed = 0

    def tick(self, faults: Faults, seconds: float, requests: int) -> None:
        """Advance the synthetic load and the host gauges by `seconds`."""
        for _ in range(requests):
            self.record_request(faults)
        self.db_attempts.inc(requests)
        if faults.database_down:
            self.db_failures.inc(requests)
        self.payment_attempts.inc(requests)
        if faults.payments_failing:
            self.payment_failures.inc(requests)
            self.payments.labels("failed").inc(requests)
        else:
            self.payments.labels("succeeded").inc(requests)
        busy = HEALTHY_CPU if faults.cpu_fraction is None else faults.cpu_fraction
        for cpu in range(CPUS):
            self.cpu.labels(str(cpu), "idle").inc(seconds * (1 - busy))
            self.cpu.labels(str(cpu), "user").inc(seconds * busy)
        container = (self.pod_labels["namespace"], self.pod_labels["pod"], "app")
        self.container_cpu.labels(*container).inc(seconds * busy * CPUS)
        used = HEALTHY_MEMORY if faults.memory_fraction is None else faults.memory_fraction
        self.mem_available.set(MEMORY_TOTAL_BYTES * (1 - used))
        self.container_memory.labels(*container).set(MEMORY_TOTAL_BYTES * used)
        free = HEALTHY_DISK_FREE if faults.disk_free_fraction is None else faults.disk_free_fraction
        self.fs_avail.labels("/dev/vda1", "ext4", "/").set(DISK_SIZE_BYTES * free)
        self.volume_available.labels(*self.claim).set(DISK_SIZE_BYTES * free)


def _family(line: bytes) -> bytes:
    """The metric name of an exposition line (also of its # HELP / # TYPE lines)."""
    if line.startswith(b"# "):
        parts = line.split(b" ")
        return parts[2] if len(parts) > 2 else b""
    return line.split(b"{", 1)[0].split(b" ", 1)[0]


class DemoFleet:
    """Every service's faults and signals; thread-safe."""

    def __init__(self, service_ids: Iterable[str], requests_per_second: float = 20.0) -> None:
        self._lock = threading.Lock()
        self.requests_per_second = requests_per_second
        self.signals = {sid: ServiceSignals(sid) for sid in service_ids}
        self.faults = {sid: Faults() for sid in self.signals}
        self._owed = dict.fromkeys(self.signals, 0.0)

    def _known(self, service_id: str) -> None:
        if service_id not in self.signals:
            raise KeyError(
                f"unknown service {service_id!r}; known: {', '.join(sorted(self.signals))}"
            )

    def set_faults(self, service_id: str, changes: dict[str, Any]) -> Faults:
        self._known(service_id)
        with self._lock:
            updated = self.faults[service_id].merged(changes)
            if updated.error_fraction != self.faults[service_id].error_fraction:
                self.signals[service_id].reset_ratio()
            self.faults[service_id] = updated
            return updated

    def clear(self, service_id: str) -> Faults:
        self._known(service_id)
        with self._lock:
            self.faults[service_id] = Faults()
            self.signals[service_id].reset_ratio()
            return self.faults[service_id]

    def clear_all(self) -> None:
        for service_id in self.signals:
            self.clear(service_id)

    def faults_of(self, service_id: str) -> Faults:
        self._known(service_id)
        with self._lock:
            return self.faults[service_id]

    def tick(self, seconds: float) -> None:
        with self._lock:
            for sid, signals in self.signals.items():
                faults = self.faults[sid]
                if faults.down:
                    continue  # a dead process serves nothing and counts nothing
                self._owed[sid] += self.requests_per_second * seconds
                whole = int(self._owed[sid])
                self._owed[sid] -= whole
                signals.tick(faults, seconds, whole)

    def serve_request(self, service_id: str) -> tuple[int, Faults]:
        self._known(service_id)
        with self._lock:
            faults = self.faults[service_id]
            if faults.down:
                return 503, faults
            return self.signals[service_id].record_request(faults), faults

    def exposition(self, service_id: str) -> bytes:
        self._known(service_id)
        with self._lock:
            text = generate_latest(self.signals[service_id].registry)
            missing = self.faults[service_id].missing_metrics
        if not missing:
            return text
        return b"".join(
            line
            for line in text.splitlines(keepends=True)
            if not any(_family(line).startswith(name.encode()) for name in missing)
        )


def create_app(fleet: DemoFleet, *, tick_seconds: float = 0.25) -> Starlette:
    """The demo app's HTTP interface (see the module docstring)."""

    def service_of(request: Request) -> str | Response:
        service_id = request.path_params["service"]
        if service_id not in fleet.signals:
            return JSONResponse(
                {"error": f"unknown service {service_id!r}", "known": sorted(fleet.signals)},
                status_code=404,
            )
        return str(service_id)

    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "services": {
                    sid: {
                        "health": f"/services/{sid}/health",
                        "metrics": f"/services/{sid}/metrics",
                        "faults": asdict(fleet.faults_of(sid)),
                    }
                    for sid in sorted(fleet.signals)
                }
            }
        )

    async def serve(request: Request) -> Response:
        service_id = service_of(request)
        if isinstance(service_id, Response):
            return service_id
        code, faults = fleet.serve_request(service_id)
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        return PlainTextResponse("ok\n" if code == 200 else "error\n", status_code=code)

    async def health(request: Request) -> Response:
        service_id = service_of(request)
        if isinstance(service_id, Response):
            return service_id
        faults = fleet.faults_of(service_id)
        if faults.down:
            return PlainTextResponse("down\n", status_code=503)
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        if faults.database_down:
            return PlainTextResponse("database unreachable\n", status_code=503)
        return PlainTextResponse("ok\n")

    async def metrics(request: Request) -> Response:
        service_id = service_of(request)
        if isinstance(service_id, Response):
            return service_id
        if fleet.faults_of(service_id).down:
            # A process that is down cannot be scraped either: Prometheus records up == 0.
            return PlainTextResponse("down\n", status_code=503)
        return Response(fleet.exposition(service_id), media_type=CONTENT_TYPE_LATEST)

    async def control_all(request: Request) -> Response:
        if request.method == "DELETE":
            fleet.clear_all()
        return JSONResponse({sid: asdict(fleet.faults_of(sid)) for sid in sorted(fleet.signals)})

    async def control(request: Request) -> Response:
        service_id = service_of(request)
        if isinstance(service_id, Response):
            return service_id
        if request.method == "DELETE":
            return JSONResponse(asdict(fleet.clear(service_id)))
        if request.method == "GET":
            return JSONResponse(asdict(fleet.faults_of(service_id)))
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        try:
            return JSONResponse(asdict(fleet.set_faults(service_id, body)))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def load() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(tick_seconds)
                now = time.monotonic()
                fleet.tick(now - last)
                last = now

        task = asyncio.create_task(load())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [
        Route("/", index),
        Route("/services/{service}/", serve, methods=["GET", "POST"]),
        Route("/services/{service}/health", health),
        Route("/services/{service}/metrics", metrics),
        Route("/_control", control_all, methods=["GET", "DELETE"]),
        Route("/_control/{service}", control, methods=["GET", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
