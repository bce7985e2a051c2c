"""Which org config file a stack uses: `config/<stack>.yaml`, or `Pulumi.<stack>.yaml`'s
`incident-response:configFile` when it names another file."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


class StackError(Exception):
    pass


def config_file_for(stack: str, config: Path | None = None, root: Path = ROOT) -> Path:
    if config is not None:
        return config
    stack_file = root / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        try:
            data = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise StackError(f"{stack_file}: not valid YAML: {exc}") from None
        named = (data.get("config") or {}).get("incident-response:configFile")
        if named:
            return root / str(named)
    default = root / "config" / f"{stack}.yaml"
    if not default.exists():
        known = sorted(p.stem for p in (root / "config").glob("*.yaml"))
        raise StackError(
            f"no config for stack {stack!r}: {default} does not exist "
            f"(stacks with a config: {', '.join(known) or 'none'}); pass --config FILE"
        )
    return default


def stack_settings(stack: str, root: Path = ROOT) -> dict[str, str]:
    """The plain (non-secret) `incident-response:*` settings of Pulumi.<stack>.yaml, so the
    offline render sees the replicas, images and issuer the stack really deploys."""
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        return {}
    data = yaml.safe_load(stack_file.read_text()) or {}
    settings = {}
    for key, value in (data.get("config") or {}).items():
        if not str(key).startswith("incident-response:") or key.endswith(":configFile"):
            continue
        if isinstance(value, bool):
            settings[str(key)] = str(value).lower()
        elif isinstance(value, str | int | float):
            settings[str(key)] = str(value)
        # {"secure": ...}: an encrypted secret; the render uses placeholders for those
    return settings


def page_test_service_for(stack: str, root: Path = ROOT) -> str:
    """The service the stack's daily page test pages (`incident-response:pageTestService`)."""
    from deploy.settings import DeploySettings

    named = stack_settings(stack, root).get("incident-response:pageTestService")
    return named or DeploySettings(stack=stack).page_test_service
