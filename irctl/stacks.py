"""Which org config file a stack uses: `config/<stack>.yaml`, or `Pulumi.<stack>.yaml`'s
`incident-response:configFile` when it names another file, in the project root: the first
folder from the current directory upward that holds a `Pulumi.yaml` (the way git finds its
root), never the folder the package happens to be installed in."""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECT_FILE = "Pulumi.yaml"


class StackError(Exception):
    pass


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the current directory) with a
    Pulumi.yaml, or None."""
    here = (start or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if (d / PROJECT_FILE).is_file()), None)


def project_root() -> Path:
    root = find_project_root()
    if root is None:
        raise StackError(
            f"no {PROJECT_FILE} in {Path.cwd()} or any folder above it: run irctl inside the "
            "project's checkout, or pass --config FILE"
        )
    return root


def config_file_for(stack: str, config: Path | None = None, root: Path | None = None) -> Path:
    if config is not None:
        return config
    root = root or project_root()
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


def stack_settings(stack: str, root: Path | None = None) -> dict[str, str]:
    """The plain (non-secret) `incident-response:*` settings of Pulumi.<stack>.yaml, so the
    offline render sees the replicas, images and issuer the stack really deploys. Outside a
    project checkout (only --config given) there are none: the defaults apply."""
    root = root or find_project_root()
    if root is None:
        return {}
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


def check_stack_settings(stack: str, root: Path | None = None) -> None:
    """Refuse a stack file whose `incident-response:*` settings the program would trip over
    (a typo'd key is silently ignored by Pulumi; a bad number fails deep in the render)."""
    from orgconfig.settings import (
        NAMESPACE,
        SECRETS,
        SETTINGS,
        DeploySettings,
        DeploySettingsError,
    )

    values = stack_settings(stack, root)
    known = {s.key for s in SETTINGS} | {s.key for s in SECRETS} | {"configFile"}
    where = f"{(root or find_project_root() or Path.cwd()) / f'Pulumi.{stack}.yaml'}"
    problems = [
        f"{where}: unknown setting {key!r}; known settings: {', '.join(sorted(known))}"
        for key in values
        if key.removeprefix(f"{NAMESPACE}:") not in known
    ]
    try:
        DeploySettings.from_values(
            stack, {k.removeprefix(f"{NAMESPACE}:"): v for k, v in values.items()}
        )
    except DeploySettingsError as exc:
        problems.append(f"{where}: {exc}")
    if problems:
        raise StackError("\n".join(problems))


def page_test_service_for(stack: str, root: Path | None = None) -> str:
    """The service the stack's daily page test pages (`incident-response:pageTestService`)."""
    from deploy.settings import DeploySettings

    named = stack_settings(stack, root).get("incident-response:pageTestService")
    return named or DeploySettings(stack=stack).page_test_service
