"""Alert thresholds and per-service alert signals (filled in by the alerting work)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from orgconfig.units import Duration, Percent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    down_for: Duration = Field(timedelta(minutes=2), description="Page when down this long.")
    error_rate_critical: Percent = 0.10
    error_rate_warning: Percent = 0.05
    latency_critical: Duration = timedelta(seconds=5)
    latency_warning: Duration = timedelta(seconds=3)
    cpu_warning: Percent = 0.80
    memory_warning: Percent = 0.80
    disk_free_warning: Percent = 0.20
    availability_target: Percent = 0.999


class AlertingSettings(_Strict):
    thresholds: Thresholds = Field(default_factory=Thresholds)


class ServiceAlerts(_Strict):
    """Which alert signals a service has; each can be turned off or overridden."""
