"""Load `config/<stack>.yaml` into the typed model, reporting every problem of the file at once.

Each problem names the file, the YAML path, the line, the bad value and what is allowed.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from orgconfig.model import OrgConfig
from orgconfig.yamlsafe import (
    MAX_FILE_CHARS,
    REFUSED,
    FastLoader,
    Loc,
    YamlRefused,
    prescan,
    scan_nodes,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file: where (file, YAML path, line) and what."""

    file: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class ConfigError(Exception):
    """The config file is unusable; `problems` lists everything that is wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def report(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.problems[0].file}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def format_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _collect_ids(data: Any) -> dict[str, set[str]]:
    """Ids defined anywhere in the raw file, so references can be checked in one pass."""

    def ids(items: Any) -> set[str]:
        if not isinstance(items, list):
            return set()
        return {str(i["id"]) for i in items if isinstance(i, dict) and "id" in i}

    if not isinstance(data, dict):
        return {}
    found = {
        "person": ids(data.get("people")),
        "team": ids(data.get("teams")),
        "schedule": ids(data.get("schedules")),
        "escalation_policy": ids(data.get("escalation_policies")),
        "service": ids(data.get("services")),
    }
    page = data.get("status_page")
    if isinstance(page, dict) and isinstance(page.get("groups"), list):
        found["status_page_component"] = set().union(
            *(ids(g.get("components")) for g in page["groups"] if isinstance(g, dict))
        )
    else:
        found["status_page_component"] = set()
    return found


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc` (to list its allowed keys)."""
    current: Any = OrgConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = [a for a in typing.get_args(current) if a is not type(None)]
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] to the underlying type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _explain(error: Any) -> str:
    kind = error["type"]
    value = error.get("input")
    loc: Loc = tuple(error["loc"])
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else "see config/schema.json"
        return f"unknown key {loc[-1]!r}; allowed keys here: {allowed}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
        return f"{value!r} is not a valid id: use lower-case letters, digits and single dashes"
    if kind in ("literal_error", "enum"):
        return f"{value!r} is not allowed; {message[0].lower()}{message[1:]}"
    if kind.startswith(("string_", "int_", "float_", "bool_", "list_", "date_", "too_")):
        return f"{value!r}: {message[0].lower()}{message[1:]}"
    return message


def validation_problems(
    error: ValidationError, file: str, lines: dict[Loc, int] | None = None
) -> list[Problem]:
    lines = lines or {}
    problems = []
    for item in error.errors():
        loc: Loc = tuple(item["loc"])
        problems.append(Problem(file, format_path(loc), _line_for(lines, loc), _explain(item)))
    return problems


def _yaml_problems(text: str, file: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse `text` safely: the data, the line of every YAML path, and the problems found.

    Raises ConfigError when the file cannot be read at all (not YAML, too large, an alias
    bomb). Duplicate keys and out-of-range scalars are returned as problems, so the model's
    own problems can be listed with them.
    """
    if len(text) > MAX_FILE_CHARS:
        raise ConfigError([Problem(file, "", None, _too_large(len(text)))])
    try:
        prescan(text)
        root = yaml.compose(text, Loader=FastLoader)
        if root is None:
            return None, {}, []
        scan = scan_nodes(root)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_error(exc, file)]) from None
    except YamlRefused as exc:
        raise ConfigError([Problem(file, "", exc.line, exc.message)]) from None
    problems = [Problem(file, format_path(loc), line, why) for loc, line, why in scan.problems]
    try:
        data = FastLoader("").construct_document(root)
    except Exception as exc:  # a value scan_nodes did not foresee: still no crash
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError([Problem(file, "", line, f"cannot read a value: {exc}")]) from None
    return data, scan.lines, problems


def _yaml_error(exc: yaml.YAMLError, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem(file, "", line, f"not valid YAML: {reason}")


def _too_large(chars: int) -> str:
    return (
        f"the file has {chars:,} characters; an org config may have at most "
        f"{MAX_FILE_CHARS:,} (split very long texts into links to docs)"
    )


def parse_config(
    text: str, file: str = "<config>", *, page_test_service: str | None = None
) -> OrgConfig:
    """The typed config; `page_test_service` (the stack's setting) must then be a service."""
    data, lines, problems = _yaml_problems(text, file)
    if not isinstance(data, dict):
        raise ConfigError(
            [
                *problems,
                Problem(file, "", 1, "the file must be a YAML mapping with keys org, people, ..."),
            ]
        )
    try:
        context = {"ids": _collect_ids(data), "page_test_service": page_test_service}
        org = OrgConfig.model_validate(data, context=context)
    except ValidationError as exc:
        # A refused scalar was already reported (as itself, not as the stand-in).
        reported = {p.path for p in problems}
        problems += [
            p
            for p in validation_problems(exc, file, lines)
            if p.path not in reported and repr(REFUSED) not in p.message
        ]
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return org


def load_config(path: str | Path, *, page_test_service: str | None = None) -> OrgConfig:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_CHARS * 4:  # UTF-8: refuse before reading a huge file
            raise ConfigError([Problem(str(path), "", None, _too_large(size))])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "", None, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), "", None, f"cannot read the file: {exc}")]) from None
    return parse_config(text, str(path), page_test_service=page_test_service)
