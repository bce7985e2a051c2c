"""`irctl validate`: the one gate CI runs without credentials.

Steps (each prints a progress line; every problem of every step is listed at the end):
config, coverage, render, Prometheus rules (promtool), Alertmanager config (amtool),
Kubernetes manifests (kubernetes-validate, strict, offline), policies over the plan.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from irctl.common import ConfigOption, StackOption, console, err, fail
from irctl.stacks import StackError, config_file_for, stack_settings
from orgconfig.load import ConfigError, load_config
from orgconfig.model import OrgConfig

DEFAULT_KUBERNETES_VERSION = "1.30"
COVERAGE_WEEKS = 12

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

    def step(self, name: str, problems: list[str], detail: str = "") -> None:
        mark = "[green]ok[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
        console.print(f"  {name:<30} {mark} {detail}", highlight=False, soft_wrap=True)
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
    problems: list[str] = []
    schema_checked = crd_checked = 0
    for path in sorted(folder.glob("*.yaml")):
        for manifest in yaml.safe_load_all(path.read_text()):
            if not manifest:
                continue
            found = check_manifest(manifest, version)
            problems.extend(f"{path.name}: {p}" for p in found)
            key = (manifest.get("apiVersion"), manifest.get("kind"))
            if key in CRD_REQUIRED:
                crd_checked += 1
            else:
                schema_checked += 1
    return problems, schema_checked, crd_checked


def _run(command: list[str], cwd: Path | None = None) -> tuple[int, str]:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120)
    return result.returncode, (result.stdout + result.stderr).strip()


def check_prometheus(out: Path) -> tuple[list[str], str]:
    rules = sorted((out / "prometheus").glob("*.yaml"))
    rule_files = [p for p in rules if "test" not in p.name]
    test_files = [p for p in rules if "test" in p.name]
    if not rule_files or not test_files:
        return ["irctl render wrote no prometheus/rules.yaml and rules test file"], ""
    promtool = shutil.which("promtool")
    if promtool is None:
        return ["promtool is not installed (Debian package `prometheus`)"], ""
    problems = []
    for path in rule_files:
        code, output = _run([promtool, "check", "rules", str(path)])
        if code:
            problems.append(f"promtool check rules {path.name} failed:\n{output}")
    for path in test_files:
        code, output = _run([promtool, "test", "rules", path.name], cwd=path.parent)
        if code:
            problems.append(f"promtool test rules {path.name} failed:\n{output}")
    return problems, f"({len(rule_files)} rule file(s), {len(test_files)} test file(s))"


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

    return [
        f"[{rule.name}] {message}"
        for resource in resources
        for rule in RULES
        for message in rule.check(resource.type, resource.name, resource.inputs, stack)
    ]


def _version_key(version: str) -> list[int]:
    return [int(part) for part in version.split(".")]


def kubernetes_version_for(stack: str) -> str:
    value = stack_settings(stack).get("incident-response:kubernetesVersion")
    return value or DEFAULT_KUBERNETES_VERSION


def validate(
    stack: str, config: Path | None, kubernetes_version: str | None, out: Path
) -> list[str]:
    """Run every step; return every problem found (empty: the change may be deployed)."""
    report = Report()
    console.print(f"validating stack [bold]{stack}[/] ...")
    try:
        path = config_file_for(stack, config)
        org: OrgConfig = load_config(path)
    except StackError as exc:
        report.step("config", [str(exc)])
        return report.problems
    except ConfigError as exc:
        report.step("config", [str(p) for p in exc.problems])
        return report.problems
    report.step("config", [], f"({path})")
    from deploy.statuspage_copy import off_cluster_warnings

    for warning in off_cluster_warnings(stack, org):
        console.print(f"  [yellow]warning[/]: {warning}", highlight=False, soft_wrap=True)

    from oncall.coverage import coverage

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    coverage_problems = [p for r in coverage(org, now, COVERAGE_WEEKS) for p in r.problems]
    report.step("on-call coverage", coverage_problems, f"(next {COVERAGE_WEEKS} weeks)")

    from deploy.settings import DeploySettingsError
    from irctl.plan import record_program
    from irctl.render import writers

    out.mkdir(parents=True, exist_ok=True)
    try:
        plan = record_program(stack, path.resolve(), stack_settings(stack))
    except DeploySettingsError as exc:
        report.step("render", [str(exc)])
        return report.problems
    files = [file for write in writers() for file in write(org, plan, out)]
    report.step("render", [], f"({len(plan.resources)} resources, {len(files)} files)")

    prometheus_problems, detail = check_prometheus(out)
    report.step("prometheus rules (promtool)", prometheus_problems, detail)
    alertmanager_problems, detail = check_alertmanager(out)
    report.step("alertmanager config (amtool)", alertmanager_problems, detail)

    version = kubernetes_version or kubernetes_version_for(stack)
    problems, schema_checked, crd_checked = check_manifests(out / "kubernetes", version)
    report.step(
        "kubernetes manifests",
        problems,
        f"(Kubernetes {version}, strict: {schema_checked} by JSON schema, "
        f"{crd_checked} custom resources by their required fields)",
    )

    report.step("policies", check_policies(plan.resources, stack))
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
