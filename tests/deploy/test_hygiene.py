"""Secrets hygiene and object sizes: plain-text secret settings, credentials in URLs, and
Kubernetes objects the API server would refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi_policy import PolicyResource, StackValidationArgs

from iac.plan import PlannedResource
from irctl.hygiene import DATA_LIMIT, object_size_problems
from orgconfig.credentials import url_credentials
from orgconfig.load import ConfigError, parse_config
from policy.policies import BY_NAME
from policy.secrets import no_credentials_in_urls, plain_text_secrets, stack_file_problems
from tests.conftest import PROD

STACK_FILE = """\
config:
  incident-response:configFile: config/prod.yaml
  incident-response:namespace: incident-response
  incident-response:slackWebhookUrl: https://hooks.slack.com/services/T000/B000/XXXX
  incident-response:heartbeatUrl:
    secure: AAABAJ3b0k9dZ2VmYXVsdA==
  pagerduty:token: u+abcdefghijklmnop
  incident-response:grafanaPassword: hunter2
"""


def test_plain_text_secret_settings_name_file_line_and_the_fix(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(STACK_FILE)
    problems = plain_text_secrets(stack_file)
    assert [p.split(": ")[0] for p in problems] == [
        f"{stack_file}:4",
        f"{stack_file}:7",
        f"{stack_file}:8",
    ]
    assert "incident-response:slackWebhookUrl (Slack incoming-webhook URL" in problems[0]
    assert (
        "run `pulumi config set --secret incident-response:slackWebhookUrl <value>`" in problems[0]
    )
    assert "pagerduty:token" in problems[1]
    assert "grafanaPassword (a credential, by its name)" in problems[2]
    assert all("hooks.slack.com" not in p and "hunter2" not in p for p in problems)


def test_secure_values_and_plain_settings_pass(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  incident-response:namespace: ir\n"
        "  incident-response:slackWebhookUrl:\n    secure: AAAB\n"
    )
    assert stack_file_problems("prod", tmp_path) == []
    assert stack_file_problems("nosuchstack", tmp_path) == []


def test_the_policy_pack_refuses_a_plain_text_secret(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK_FILE)
    monkeypatch.setattr("policy.secrets.PROJECT_ROOT", tmp_path)
    resource = PolicyResource(
        "pagerduty:index/service:Service",
        {},
        "urn:pulumi:prod::incident-response::pagerduty:index/service:Service::api",
        "api",
        None,  # type: ignore[arg-type]  # options are not read by this policy
        None,
        None,
        [],
        {},
    )
    reported: list[str] = []
    policy = BY_NAME["no-plain-text-secret-settings"]
    policy.validate(StackValidationArgs([resource]), lambda m, _urn: reported.append(m))
    assert len(reported) == 3 and "slackWebhookUrl" in reported[0]


def test_url_credentials_never_repeat_the_value() -> None:
    found = url_credentials("see https://bob:s3cret@grafana.example.com/d?x=1&api_key=abcd")
    assert found == [
        "credentials before the @ in the URL to grafana.example.com (user:pass@host)",
        "a 'api_key' query parameter in the URL to grafana.example.com",
    ]
    assert url_credentials("https://status.example.com/?page=2&module=http_2xx") == []


def test_loader_refuses_a_token_in_a_check_url() -> None:
    text = PROD.read_text().replace(
        "https://api.modulo.example.com/healthz", "https://api.modulo.example.com/healthz?token=x1"
    )
    try:
        parse_config(text, "org.yaml")
    except ConfigError as exc:
        (problem,) = [str(p) for p in exc.problems]
    assert "status_page.groups[0].components[0].checks[0].url" in problem
    assert "a 'token' query parameter" in problem and "pulumi config set --secret" in problem
    assert "x1" not in problem


def test_policy_finds_credentials_in_resource_urls() -> None:
    props = {"data": {"config.yaml": "checks:\n- url: https://u:p@db.example.com/"}}
    (message,) = no_credentials_in_urls("kubernetes:core/v1:ConfigMap", "cm", props, "prod")
    assert "ConfigMap 'cm' has credentials before the @" in message
    assert "at data.config.yaml" in message
    assert no_credentials_in_urls("kubernetes:core/v1:Secret", "s", props, "prod") == []


def planned(kind: str, manifest: dict[str, Any]) -> PlannedResource:
    inputs = {"apiVersion": "v1", "kind": kind, **manifest}
    return PlannedResource(f"kubernetes:core/v1:{kind}", "x", None, True, False, inputs, inputs)


def test_configmap_over_one_mebibyte_is_refused() -> None:
    big = planned("ConfigMap", {"metadata": {"name": "cfg"}, "data": {"a": "x" * DATA_LIMIT}})
    small = planned("ConfigMap", {"metadata": {"name": "ok"}, "data": {"a": "x" * 1000}})
    problems = object_size_problems([big, small])
    assert len(problems) == 1
    assert problems[0].startswith("ConfigMap 'cfg' holds 1,048,577 bytes of data")
    assert "at most 1,048,576 (1 MiB)" in problems[0]


def test_huge_custom_resource_is_refused_as_a_whole() -> None:
    rule = PlannedResource(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "rules",
        None,
        True,
        False,
        {},
        {"kind": "PrometheusRule", "metadata": {"name": "r"}, "spec": {"x": "y" * 1_700_000}},
    )
    (problem,) = object_size_problems([rule])
    assert "PrometheusRule 'r' is 1,7" in problem and "1.5 MiB" in problem
