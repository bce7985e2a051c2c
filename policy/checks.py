"""The mandatory policies as pure functions: each returns the violation messages (sentences
that name the resource), empty when the resource complies."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Props = Mapping[str, Any]
Check = Callable[[str, str, Props, str], list[str]]

MIN_TIERS = 4
MIN_DELAY_MINUTES = 1
PROD_STACKS = frozenset({"prod"})
MIN_PROD_REPLICAS = 2
REDACTED = "[secret]"
SECRET_SIG = "4dabf18193072939515e22adb298388d"

ESCALATION_POLICY = "pagerduty:index/escalationPolicy:EscalationPolicy"
PAGERDUTY_SERVICE = "pagerduty:index/service:Service"
K8S_SECRET = "kubernetes:core/v1:Secret"
WORKLOADS = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

# What a paging credential looks like: an Events API v2 routing key (32 characters), a Slack
# or PagerDuty webhook URL, or a value under a key whose name says it is one.
_ROUTING_KEY = re.compile(r"^[a-zA-Z0-9]{32}$")
_WEBHOOK_URL = re.compile(
    r"https://(hooks\.slack\.com/|events\.pagerduty\.com/integration/|[^/\s]*/services/T[A-Z0-9]+/)"
)
_CREDENTIAL_NAME = re.compile(
    r"(routing|integration|service)[_-]?key|webhook[_-]?url|(slack_)?api[_-]?url",
    re.IGNORECASE,
)


def _describe(resource_type: str, name: str) -> str:
    kind = resource_type.rsplit(":", 1)[-1]
    return f"{kind} {name!r}"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def escalation_policy_has_four_tiers(
    resource_type: str, name: str, props: Props, stack: str
) -> list[str]:
    """Every PagerDuty service has an escalation policy with at least four tiers and delays of
    at least one minute."""
    what = _describe(resource_type, name)
    if resource_type == PAGERDUTY_SERVICE:
        if not props.get("escalationPolicy"):
            return [f"PagerDuty {what} has no escalation policy; every service must have one."]
        return []
    if resource_type != ESCALATION_POLICY:
        return []
    rules = list(props.get("rules") or [])
    problems = []
    if len(rules) < MIN_TIERS:
        problems.append(
            f"PagerDuty {what} has {len(rules)} tier(s); an escalation policy needs at least "
            f"{MIN_TIERS} tiers."
        )
    for index, rule in enumerate(rules, start=1):
        delay = _number((rule or {}).get("escalationDelayInMinutes"))
        if delay is not None and delay < MIN_DELAY_MINUTES:
            problems.append(
                f"PagerDuty {what} escalates away from tier {index} after {delay:g} minute(s); "
                f"the delay must be at least {MIN_DELAY_MINUTES} minute."
            )
        elif delay is None and rule and "escalationDelayInMinutes" not in rule:
            problems.append(f"PagerDuty {what} has no escalation delay on tier {index}.")
    return problems


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        if SECRET_SIG in value:
            yield path, REDACTED  # a secret value: fine inside a Secret, a leak anywhere else
            return
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def _credential_at(path: str, value: Any, props: Props) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if _WEBHOOK_URL.search(value):
        return True
    leaf = re.split(r"[.\[]", path)[-1]
    if _CREDENTIAL_NAME.fullmatch(leaf) and not value.startswith("/"):
        return True  # a file path (`routing_key_file`-style) is the safe spelling
    if value == REDACTED and (path.startswith("data") or path.startswith("binaryData")):
        return True  # a secret value stored in a ConfigMap
    if leaf == "value" and path.endswith(".value"):
        # A container env var: {"name": "PAGERDUTY_ROUTING_KEY", "value": "..."}; a file or
        # folder path (`..._KEY_DIR=/etc/pagerduty`) is where a mounted Secret is, not a key.
        if value.startswith("/"):
            return False
        return bool(_ENV_NAME.search(_env_name(props, path))) or bool(_ROUTING_KEY.match(value))
    return False


_ENV_NAME = re.compile(r"ROUTING_KEY|INTEGRATION_KEY|WEBHOOK_URL|SLACK_API_URL", re.IGNORECASE)


def _env_name(props: Props, path: str) -> str:
    node: Any = props
    for part in re.findall(r"[^.\[\]]+", path.rsplit(".", 1)[0]):
        node = node[int(part)] if isinstance(node, list) else node.get(part, {})
    return str(node.get("name", "")) if isinstance(node, Mapping) else ""


def no_paging_credentials_outside_secrets(
    resource_type: str, name: str, props: Props, stack: str
) -> list[str]:
    """No integration key or webhook URL outside a Kubernetes Secret."""
    if resource_type == K8S_SECRET or resource_type.startswith("pagerduty:"):
        return []
    return [
        f"{_describe(resource_type, name)} holds a paging credential in plain text at {path}; "
        "integration keys and webhook URLs belong in a Kubernetes Secret."
        for path, value in _walk(props)
        if _credential_at(path, value, props)
    ]


def _get(props: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        props = props.get(part) if isinstance(props, Mapping) else None
    return props


def containers_are_hardened(resource_type: str, name: str, props: Props, stack: str) -> list[str]:
    """Every container has limits, runs as non-root and has a read-only root filesystem."""
    if resource_type not in WORKLOADS:
        return []
    pod = _get(props, WORKLOADS[resource_type]) or {}
    pod_non_root = _get(pod, ("securityContext", "runAsNonRoot")) is True
    what = _describe(resource_type, name)
    problems = []
    for container in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
        cname = container.get("name", "?")
        limits = _get(container, ("resources", "limits")) or {}
        missing = [r for r in ("cpu", "memory") if r not in limits]
        if missing:
            problems.append(
                f"Container {cname!r} of {what} has no {' or '.join(missing)} limit; every "
                "container needs CPU and memory limits."
            )
        non_root = _get(container, ("securityContext", "runAsNonRoot"))
        if not (non_root is True or (non_root is None and pod_non_root)):
            problems.append(
                f"Container {cname!r} of {what} may run as root; set runAsNonRoot: true."
            )
        if _get(container, ("securityContext", "readOnlyRootFilesystem")) is not True:
            problems.append(
                f"Container {cname!r} of {what} has a writable root filesystem; set "
                "readOnlyRootFilesystem: true."
            )
    return problems


def statuspage_is_highly_available(
    resource_type: str, name: str, props: Props, stack: str
) -> list[str]:
    """The status page has at least two replicas in prod."""
    if resource_type != "kubernetes:apps/v1:Deployment" or stack not in PROD_STACKS:
        return []
    labels = _get(props, ("metadata", "labels")) or {}
    if labels.get("app.kubernetes.io/name") != "statuspage":
        return []
    replicas = _number(_get(props, ("spec", "replicas")))
    count = 1.0 if replicas is None else replicas
    if count < MIN_PROD_REPLICAS:
        return [
            f"The status page Deployment {name!r} runs {count:g} replica(s) in {stack}; it "
            f"needs at least {MIN_PROD_REPLICAS} (with PostgreSQL) so it stays up during an "
            "incident."
        ]
    return []


HEARTBEAT_RECEIVER = "heartbeat"
ALERTMANAGER_CONFIG_KEY = "alertmanager.yaml"
# Set by the alerting component (alerts.alertmanager.HEARTBEAT_ANNOTATION; the pack is
# published on its own, so it keeps a copy) for engines that hand the policy secret values
# as opaque placeholders.
HEARTBEAT_ANNOTATION = "incident-response.modulo.example.com/heartbeat"


def _revealed(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) and SECRET_SIG in value else value


def _heartbeat_url(config_text: str) -> str | None:
    """The heartbeat receiver's webhook URL in an Alertmanager config, or None."""
    import yaml

    try:
        config = yaml.safe_load(config_text)
    except yaml.YAMLError:
        return None
    for receiver in (config or {}).get("receivers") or []:
        if receiver.get("name") == HEARTBEAT_RECEIVER:
            for webhook in receiver.get("webhook_configs") or []:
                if webhook.get("url"):
                    return str(webhook["url"])
    return None


def prod_alertmanager_has_a_heartbeat(
    resource_type: str, name: str, props: Props, stack: str
) -> list[str]:
    """In prod, the Alertmanager config Secret sends the Watchdog to a heartbeat URL (the dead
    man's switch): without it a dead alerting pipeline pages nobody."""
    if resource_type != K8S_SECRET or stack not in PROD_STACKS:
        return []
    data = _revealed(props.get("stringData")) or {}
    config = _revealed(data.get(ALERTMANAGER_CONFIG_KEY)) if isinstance(data, Mapping) else None
    annotations = _get(props, ("metadata", "annotations")) or {}
    if config is None and HEARTBEAT_ANNOTATION not in annotations:
        return []  # not an Alertmanager config Secret
    if isinstance(config, str) and config != REDACTED:
        missing = _heartbeat_url(config) is None
    else:
        missing = annotations.get(HEARTBEAT_ANNOTATION) == "missing"
    if not missing:
        return []
    return [
        f"The Alertmanager config Secret {name!r} in {stack} has no heartbeat receiver URL; "
        "set `pulumi config set --secret incident-response:heartbeatUrl <dead man's switch "
        "URL>` so a dead alerting pipeline pages someone."
    ]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check


RULES = [
    Rule(
        "pagerduty-escalation-four-tiers",
        "Every PagerDuty service has an escalation policy with at least four tiers and delays "
        "of at least one minute.",
        escalation_policy_has_four_tiers,
    ),
    Rule(
        "no-paging-credentials-outside-secrets",
        "No integration key or webhook URL outside a Secret.",
        no_paging_credentials_outside_secrets,
    ),
    Rule(
        "containers-hardened",
        "Every container has limits, runs as non-root and has a read-only root filesystem.",
        containers_are_hardened,
    ),
    Rule(
        "heartbeat-required-in-prod",
        "The prod Alertmanager config sends the Watchdog to a heartbeat (dead man's switch) URL.",
        prod_alertmanager_has_a_heartbeat,
    ),
    Rule(
        "statuspage-ha-in-prod",
        "The status page has at least two replicas in prod.",
        statuspage_is_highly_available,
    ),
]


def stack_of_urn(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` -> stack."""
    parts = urn.split(":")
    return parts[2] if len(parts) > 2 and urn.startswith("urn:pulumi:") else ""
