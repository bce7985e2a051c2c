"""Prometheus metrics; the probe names match the blackbox exporter's so alerts read alike."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from statuspage.state import COMPONENT_STATUSES


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["component", "service", "check"]
        self.probe_success = Gauge(
            "probe_success",
            "1 if the last synthetic check succeeded",
            labels,
            registry=self.registry,
        )
        self.probe_duration = Gauge(
            "probe_duration_seconds",
            "Duration of the last synthetic check",
            labels,
            registry=self.registry,
        )
        self.component_status = Gauge(
            "statuspage_component_status",
            "1 for the status each component currently shows",
            ["component", "status"],
            registry=self.registry,
        )
        self.webhook_alerts = Counter(
            "statuspage_webhook_alerts",
            "Alerts received from Alertmanager, by what happened to them",
            ["result"],
            registry=self.registry,
        )
        self.publish_errors = Counter(
            "statuspage_publish_errors",
            "Failed uploads of the static copy",
            registry=self.registry,
        )

        self.notifications = Counter(
            "statuspage_notifications",
            "Subscriber messages by channel (email, webhook) and outcome (sent, retry, dead)",
            ["channel", "outcome"],
            registry=self.registry,
        )

    def set_component_statuses(self, statuses: dict[str, str]) -> None:
        for component, current in statuses.items():
            for status in COMPONENT_STATUSES:
                self.component_status.labels(component, status).set(int(status == current))

    def clear_probes(self) -> None:
        """Drop every probe series (this replica stopped running the checks)."""
        self.probe_success.clear()
        self.probe_duration.clear()
