"""Secrets hygiene (issue 11): secret settings only as `secure:` values in Pulumi.<stack>.yaml,
and no credentials inside URLs of any resource. Pure functions, like `policy.checks`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from orgconfig.credentials import url_credentials
from orgconfig.settings import secret_config_keys
from policy.checks import K8S_SECRET, Props, Rule

# A key named like a credential is treated as one even when no setting declares it.
_SECRET_NAME = re.compile(r"token|password|passwd|secret|api_?key|access_?key|webhook", re.I)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _how_to_move(key: str) -> str:
    return (
        f"remove the line and run `pulumi config set --secret {key} <value>` (Pulumi stores "
        "it encrypted as `secure:`), then rotate the credential: it is in Git history"
    )


def plain_text_secrets(stack_file: Path) -> list[str]:
    """Every secret setting given in plain text in a Pulumi.<stack>.yaml, as "file:line: ..."."""
    try:
        root = yaml.compose(stack_file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [f"{stack_file}: cannot read it: {exc}"]
    if not isinstance(root, yaml.MappingNode):
        return []
    config = next(
        (v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "config"),
        None,
    )
    if not isinstance(config, yaml.MappingNode):
        return []
    declared = secret_config_keys()
    problems = []
    for key_node, value in config.value:
        key = str(key_node.value)
        secure = isinstance(value, yaml.MappingNode) and any(
            k.value == "secure" for k, _ in value.value
        )
        if secure or isinstance(value, yaml.MappingNode | yaml.SequenceNode):
            continue
        if value.value in ("", None) or key.endswith(":configFile"):
            continue
        if key in declared or _SECRET_NAME.search(key.rsplit(":", 1)[-1]):
            what = declared.get(key, "a credential, by its name")
            problems.append(
                f"{stack_file}:{key_node.start_mark.line + 1}: {key} ({what}) is in plain text; "
                + _how_to_move(key)
            )
    return problems


def stack_file_problems(stack: str, root: Path | None = None) -> list[str]:
    """Plain-text secrets of the stack's file in `root` (default: this project's checkout)."""
    stack_file = (root or PROJECT_ROOT) / f"Pulumi.{stack}.yaml"
    return plain_text_secrets(stack_file) if stack_file.exists() else []


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str) and "://" in value:
        yield path, value


def no_credentials_in_urls(resource_type: str, name: str, props: Props, stack: str) -> list[str]:
    """No URL with `user:pass@` or a token-like query parameter outside a Kubernetes Secret."""
    if resource_type == K8S_SECRET:
        return []
    kind = resource_type.rsplit(":", 1)[-1]
    return [
        f"{kind} {name!r} has {found} at {path}; move the credential into a Secret: "
        "`pulumi config set --secret incident-response:<name> <value>`, and rotate it"
        for path, text in _strings(props)
        for found in url_credentials(text)
    ]


SECRET_RULES = [
    Rule(
        "no-credentials-in-urls",
        "No URL carries a password or token (user:pass@, ?token=...) outside a Secret.",
        no_credentials_in_urls,
    ),
]
