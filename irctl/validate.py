"""`irctl validate`: the one gate CI runs without credentials.

Steps (each prints a progress line; every problem of every step is listed at the end):
config, coverage, render, Prometheus rules (promtool), Alertmanager config (amtool),
Kubernetes manifests (kubernetes-validate, strict, offline), policies over the plan.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from irctl.common import ConfigOption, StackOption, console, err, fail
from irctl.hygiene import object_size_problems, secret_settings_problems
from irctl.stacks import (
    StackError,
    check_stack_settings,
    config_file_for,
    find_project_root,
    page_test_service_for,
    stack_settings,
)
from orgconfig.load import ConfigError, load_config
from orgconfig.model import OrgConfig

DEFAULT_KUBERNETES_VERSION = "1.30"

# Custom resources kubernetes-validate has no schema for: apiVersion and the required fields
# we check ourselves (dotted paths; `[]` means "a non-empty list, each item has...").
CRD_REQUIRED: dict[tuple[str, str], list[str]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): [
        "metadata.name",
        "spec.selector",
        "spec.endpoints[]",
    ],
    ("monitoring.coreos.com/v1", "PrometheusRule"): [
        "metadata.name",
        "spec.groups[].name",
        "spec.groups[].rules[].expr",
    ],
    ("monitoring.coreos.com/v1", "PodMonitor"): ["metadata.name", "spec.podMetricsEndpoints[]"],
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): ["metadata.name", "spec"],
    ("cert-manager.io/v1", "Certificate"): [
        "metadata.name",
        "spec.secretName",
        "spec.issuerRef.name",
    ],
    ("cert-manager.io/v1", "ClusterIssuer"): ["metadata.name", "spec"],
}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    mark: float = field(default_factory=time.monotonic)

    def step(self, name: str, problems: list[str], detail: str = "") -> None:
        mark = "[green]ok[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
        now = time.monotonic()
        took, self.mark = now - self.mark, now
        console.print(
            f"  {name:<30} {mark} {detail} [dim]{took:.1f} s[/]", highlight=False, soft_wrap=True
        )
        self.problems.extend(f"{name}: {p}" for p in problems)


def _missing_fields(doc: Any, path: str) -> list[str]:
    head, _, rest = path.partition(".")
    is_list = head.endswith("[]")
    key = head.removesuffix("[]")
    value = doc.get(key) if isinstance(doc, dict) else None
    if value in (None, "", [], {}):
        return [key]
    if is_list:
        if not isinstance(value, list):
            return [f"{key} (not a list)"]
        if not rest:
            return []
        return [
            f"{key}[{i}].{missing}"
            for i, item in enumerate(value)
            for missing in _missing_fields(item, rest)
        ]
    return [f"{key}.{m}" for m in _missing_fields(value, rest)] if rest else []


def _all_schema_errors(manifest: dict[str, Any], version: str) -> list[Any]:
    """Every strict-schema error of a manifest (kubernetes-validate stops at the first), using
    the schema files kubernetes-validate 1.37.0 picks for `version`."""
    import re

    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    try:
        wanted = utils.major_minor(version)
        chosen = [v for v in utils.all_versions() if utils.major_minor(v) <= wanted][-1]
        api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", str(manifest["apiVersion"]))
        folder = f"kubernetes-json-schema/v{chosen}-local-strict"
        schema = utils.schema_contents(
            f"{folder}/{str(manifest['kind']).lower()}-{api}.json", version
        )
        definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    except Exception:  # fall back to kubernetes-validate's first error
        return []
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return sorted(validator.iter_errors(manifest), key=lambda e: [str(p) for p in e.path])


def check_manifest(manifest: dict[str, Any], version: str) -> list[str]:
    """Strict schema validation, or our own required-field check for known CRDs."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    name = (manifest.get("metadata") or {}).get("name", "?")
    where = f"{kind} {name!r}"
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
        return []
    except kubernetes_validate.ValidationError as exc:
        errors = _all_schema_errors(manifest, version) or [exc]
        return [
            f"{where}: {'.'.join(str(p) for p in error.path) or '(top level)'}: {error.message}"
            for error in errors
        ]
    except SchemaNotFoundError:
        from deploy.crds import check_custom_resource

        operator_problems = check_custom_resource(manifest)  # the operator's CRD schemas
        if operator_problems is not None:
            return [f"{where}: {p}" for p in operator_problems]
        required = CRD_REQUIRED.get((str(api_version), str(kind)))
        if required is None:
            return [
                f"{where}: no schema for apiVersion {api_version} kind {kind} in Kubernetes "
                f"{version}, and it is not a custom resource irctl knows how to check"
            ]
        return [
            f"{where}: required field {missing} is missing or empty"
            for path in required
            for missing in _missing_fields(manifest, path)
        ]


def check_manifests(folder: Path, version: str) -> tuple[list[str], int, int]:
    from deploy.crds import OPERATOR_KINDS

    problems: list[str] = []
    schema_checked = crd_checked = 0
    for path in sorted(folder.glob("*.yaml")):
        for manifest in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if not manifest:
                continue
            found = check_manifest(manifest, version)
            problems.extend(f"{path.name}: {p}" for p in found)
            key = (manifest.get("apiVersion"), manifest.get("kind"))
            if key in CRD_REQUIRED or key in OPERATOR_KINDS:
                crd_checked += 1
            else:
                schema_checked += 1
    return problems, schema_checked, crd_checked


def _run(command: list[str], cwd: Path | None = None, timeout: float = 120) -> tuple[int, str]:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return result.returncode, (result.stdout + result.stderr).strip()


def check_prometheus(out: Path, org: OrgConfig) -> tuple[list[str], str]:
    """promtool check rules on the rendered file and its unit tests in parallel shards, every
    run with a time limit that scales with its work (alerts.promtool.check_and_test)."""
    from alerts.promtool import check_and_test

    rules = out / "prometheus" / "rules.yaml"
    if not rules.exists():
        return ["irctl render wrote no prometheus/rules.yaml"], ""
    promtool = shutil.which("promtool")
    if promtool is None:
        return ["promtool is not installed (Debian package `prometheus`)"], ""
    problems, shards = check_and_test(promtool, rules, org, out / "prometheus" / "shards")
    return problems, f"(rules.yaml, {shards} test shard(s) in parallel)"


def check_alertmanager(out: Path) -> tuple[list[str], str]:
    config = out / "alertmanager" / "alertmanager.yaml"
    if not config.exists():
        return ["irctl render wrote no alertmanager/alertmanager.yaml"], ""
    amtool = shutil.which("amtool")
    if amtool is None:
        return ["amtool is not installed (Debian package `prometheus-alertmanager`)"], ""
    code, output = _run([amtool, "check-config", str(config)])
    return ([f"amtool check-config failed:\n{output}"] if code else []), "(alertmanager.yaml)"


def check_policies(resources: list[Any], stack: str) -> list[str]:
    from policy.checks import RULES
    from policy.secrets import SECRET_RULES  # issue 11

    return [
        f"[{rule.name}] {message}"
        for resource in resources
        for rule in [*RULES, *SECRET_RULES]
        for message in rule.check(resource.type, resource.name, resource.inputs, stack)
    ]


def _version_key(version: str) -> list[int]:
    return [int(part) for part in version.split(".")]


def kubernetes_version_for(stack: str) -> str:
    value = stack_settings(stack).get("incident-response:kubernetesVersion")
    return value or DEFAULT_KUBERNETES_VERSION


PROD_STACKS = ("prod",)


def heartbeat_warning(stack: str, root: Path | None = None) -> str | None:
    """A warning when a prod stack file sets no heartbeat secret (the dead man's switch)."""
    from irctl.stacks import find_project_root

    root = root or find_project_root()
    if stack not in PROD_STACKS or root is None:
        return None
    stack_file = root / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(stack_file.read_text()) if stack_file.exists() else None
    if "incident-response:heartbeatUrl" in ((data or {}).get("config") or {}):
        return None
    return (
        f"{stack_file.name} sets no incident-response:heartbeatUrl secret: the Watchdog reaches "
        "no dead man's switch and `pulumi up` is refused by the policy pack (set it with "
        "`pulumi config set --secret incident-response:heartbeatUrl <URL>`)"
    )


def check_rule_sizes(folder: Path) -> tuple[list[str], int]:
    """Every rendered PrometheusRule must fit a Kubernetes object (1 MiB); the file name
    (`NN-prometheusrule-<name>.yaml`) says which, so nothing is parsed."""
    from alerts.rules import oversized

    problems: list[str] = []
    paths = sorted(folder.glob("*-prometheusrule-*.yaml"))
    for path in paths:
        name = path.stem.split("-prometheusrule-", 1)[1]
        manifest = {"kind": "PrometheusRule", "metadata": {"name": name}}
        problems.extend(f"{path.name}: {p}" for p in oversized(manifest, path.read_text()))
    return problems, len(paths)


def validate(
    stack: str, config: Path | None, kubernetes_version: str | None, out: Path
) -> list[str]:
    """Run every step; return every problem found (empty: the change may be deployed)."""
    report = Report()
    console.print(f"validating stack [bold]{stack}[/] ...")
    try:
        path = config_file_for(stack, config)
        check_stack_settings(stack)  # issue 11
        org: OrgConfig = load_config(path, page_test_service=page_test_service_for(stack))
    except StackError as exc:
        report.step("config", [str(exc)])
        return report.problems
    except ConfigError as exc:
        report.step("config", [str(p) for p in exc.problems])
        return report.problems
    report.step("config", [], f"({path})")
    if warning := heartbeat_warning(stack):
        console.print(f"  [yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    from deploy.statuspage_copy import off_cluster_warnings

    for warning in off_cluster_warnings(stack, org):
        console.print(f"  [yellow]warning[/]: {warning}", highlight=False, soft_wrap=True)

    from oncall.coverage import coverage

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    coverage_problems = [p for r in coverage(org, now) for p in r.problems]
    report.step("on-call coverage", coverage_problems, "(next 12 months, by tier)")

    from deploy.monitoring import synthetic_check_problems

    report.step("synthetic checks", synthetic_check_problems(org), "(every paged service)")

    from deploy.settings import DeploySettingsError
    from iac.plan import paused_gc, record_program
    from irctl.render import writers

    out.mkdir(parents=True, exist_ok=True)
    try:
        plan = record_program(stack, path.resolve(), stack_settings(stack))
    except DeploySettingsError as exc:
        report.step("render", [str(exc)])
        return report.problems
    with paused_gc():  # issue 11: see iac.plan.paused_gc
        files = [file for write in writers() for file in write(org, plan, out)]
    report.step("render", [], f"({len(plan.resources)} resources, {len(files)} files)")

    prometheus_problems, detail = check_prometheus(out, org)
    report.step("prometheus rules (promtool)", prometheus_problems, detail)
    alertmanager_problems, detail = check_alertmanager(out)
    report.step("alertmanager config (amtool)", alertmanager_problems, detail)

    version = kubernetes_version or kubernetes_version_for(stack)
    problems, schema_checked, crd_checked = check_manifests(out / "kubernetes", version)
    report.step(
        "kubernetes manifests",
        problems,
        f"(Kubernetes {version}, strict: {schema_checked} by JSON schema, "
        f"{crd_checked} custom resources by their CRD schemas)",
    )

    size_problems, rule_objects = check_rule_sizes(out / "kubernetes")
    report.step("rule object sizes", size_problems, f"({rule_objects} PrometheusRule(s), 1 MiB)")

    report.step("policies", check_policies(plan.resources, stack))
    report.step("kubernetes object sizes", object_size_problems(plan.resources))  # issue 11
    root = find_project_root()
    report.step(
        "secret settings",
        secret_settings_problems(stack, root),
        f"({root / f'Pulumi.{stack}.yaml'})" if root else "(no project root: skipped)",
    )
    return report.problems


def validate_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    kubernetes_version: Annotated[
        str | None,
        typer.Option(
            "--kubernetes-version",
            help="Validate manifests against this Kubernetes version (default: the stack's "
            "incident-response:kubernetesVersion, else 1.30).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Keep the rendered files here.")
    ] = None,
) -> None:
    """Check a config change end to end without credentials; exit 1 listing every problem."""
    from kubernetes_validate.utils import all_versions, major_minor

    supported = sorted({major_minor(v) for v in all_versions()}, key=_version_key)
    if kubernetes_version is not None and major_minor(kubernetes_version) not in supported:
        fail(
            f"Kubernetes version {kubernetes_version} has no schemas in kubernetes-validate "
            f"(supported: {', '.join(supported)})",
            2,
        )
    with tempfile.TemporaryDirectory(prefix="irctl-validate-") as tmp:
        problems = validate(stack, config, kubernetes_version, out or Path(tmp))
    if problems:
        err.print(f"[bold red]validation failed[/] ({len(problems)} problem(s)):")
        for problem in problems:
            err.print(f"  - {problem}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1)
    console.print("[green]validation passed[/]: this change may be deployed")
