"""promtool test series of each alert's signal: `(labels, value, samples, step)` in, the
`input_series` that make the alert's value expression read `value` out. Each alert record in
`alerts.catalog` names its generator (`AlertSpec.series`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

MINUTE = timedelta(minutes=1)
LATENCY_QUANTILE = 0.99
REQUESTS_PER_STEP = 1_000_000  # large, so error shares of 0.01 % are whole requests
BYTES = 1_000_000

Series = list[dict[str, str]]
# Labels, the signal's value, samples after the first, the step between samples.
Input = Callable[[dict[str, str], float, int, timedelta], Series]


def number(value: float) -> str:
    """A float as PromQL and YAML read it, without binary noise (0.1, not 0.1000000001)."""
    return f"{round(value, 10):.10g}"


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    text = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{text}}}", "values": values}


def gauge(value: float, samples: int) -> str:
    return f"{number(value)}+0x{samples}"


def counter(per_sample: float, samples: int) -> str:
    return f"0+{number(per_sample)}x{samples}"


def requests(labels: dict[str, str], share: float, samples: int, step: timedelta) -> Series:
    errors = round(share * REQUESTS_PER_STEP, 6)
    return [
        series("http_requests_total", {**labels, "code": "500"}, counter(errors, samples)),
        series(
            "http_requests_total",
            {**labels, "code": "200"},
            counter(REQUESTS_PER_STEP - errors, samples),
        ),
    ]


def latency(labels: dict[str, str], seconds: float, samples: int, step: timedelta) -> Series:
    # All requests in one bucket (lo, hi]: the quantile interpolates to lo + q * (hi - lo),
    # which is `seconds` when lo = seconds - q * width.
    width = min(1.0, seconds / 2)
    low = round(seconds - LATENCY_QUANTILE * width, 10)
    high = round(low + width, 10)
    name = "http_request_duration_seconds_bucket"
    return [
        series(name, {**labels, "le": number(low)}, counter(0, samples)),
        series(name, {**labels, "le": number(high)}, counter(600, samples)),
        series(name, {**labels, "le": "+Inf"}, counter(600, samples)),
    ]


CPU_LIMIT_CORES = 2


def _container(labels: dict[str, str]) -> dict[str, str]:
    return {**labels, "container": "app"}


def _limit(labels: dict[str, str], resource: str, unit: str, value: float, samples: int) -> Series:
    limits = {**_container(labels), "resource": resource, "unit": unit}
    return [series("kube_pod_container_resource_limits", limits, gauge(value, samples))]


def cpu(labels: dict[str, str], busy: float, samples: int, step: timedelta) -> Series:
    # Busy share of a 2-core limit: the counter grows busy * 2 CPU-seconds each second.
    per_sample = busy * CPU_LIMIT_CORES * step.total_seconds()
    return [
        series(
            "container_cpu_usage_seconds_total", _container(labels), counter(per_sample, samples)
        ),
        *_limit(labels, "cpu", "core", CPU_LIMIT_CORES, samples),
    ]


def memory(labels: dict[str, str], used: float, samples: int, step: timedelta) -> Series:
    return [
        series(
            "container_memory_working_set_bytes", _container(labels), gauge(used * BYTES, samples)
        ),
        *_limit(labels, "memory", "byte", BYTES, samples),
    ]


def disk(labels: dict[str, str], free: float, samples: int, step: timedelta) -> Series:
    return [
        series("kubelet_volume_stats_available_bytes", labels, gauge(free * BYTES, samples)),
        series("kubelet_volume_stats_capacity_bytes", labels, gauge(BYTES, samples)),
    ]


def payments(labels: dict[str, str], share: float, samples: int, step: timedelta) -> Series:
    failed = round(share * REQUESTS_PER_STEP, 6)
    return [
        series("payment_failures_total", labels, counter(failed, samples)),
        series("payment_attempts_total", labels, counter(REQUESTS_PER_STEP, samples)),
    ]


def per_minute(metric: str) -> Input:
    def build(labels: dict[str, str], per_minute: float, samples: int, step: timedelta) -> Series:
        # The rule reads a per-second rate times 60: a sample adds a step's share of a minute.
        return [series(metric, labels, counter(per_minute * (step / MINUTE), samples))]

    return build


def probes(labels: dict[str, str], value: float, samples: int, step: timedelta) -> Series:
    return [series("probe_success", labels, gauge(value, samples))]
