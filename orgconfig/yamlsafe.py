"""Read YAML that people (or attackers) wrote without letting it hurt the machine.

PyYAML's safe loader still accepts what breaks the steps after it: a duplicated key silently
keeps the last value; aliases can expand a 1 kB file into billions of nodes (the "billion
laughs"), which only explodes later when something walks the data; a 5,000-digit integer
raises deep inside the constructor; `.inf` and `.nan` pass as numbers. This module checks
all of that on the YAML itself, before any data is built:

1. `prescan` streams the parser's events (libyaml's C parser, no tree built) and refuses
   too many aliases or too deep nesting in time linear in the file size;
2. `scan_nodes` walks the composed node graph once (aliases are shared nodes there, so the
   walk stays linear), computing how many nodes the aliases would add when expanded, the line
   of every YAML path, duplicate keys (with both lines) and out-of-range scalars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import yaml

from orgconfig.credentials import MOVE_HINT, url_credentials

Loc = tuple[str | int, ...]

# libyaml's C implementation when it is installed (it is, with the PyYAML wheels): about ten
# times faster than the pure-Python parser on a 1,000-service org.
FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The same for writing: PyYAML's pure-Python emitter was most of a 1,000-service render.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class FastDumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """libyaml's emitter, and a shorter path through PyYAML's (pure-Python) representer for the
    plain dicts, lists and strings rendered documents are made of: no alias bookkeeping and no
    walk of the type's MRO per node (PyYAML 6.0 `BaseRepresenter.represent_data`). The output
    is byte for byte what `CSafeDumper` writes (tests/oncall/test_yaml_dump.py); anything else
    takes PyYAML's own path. A third of the representer's time at 1,000 services."""

    def represent_data(self, data: Any) -> yaml.Node:
        kind = type(data)
        if kind is dict and self.default_flow_style is False and not self.sort_keys:
            return yaml.MappingNode(
                "tag:yaml.org,2002:map",
                [(self.represent_data(k), self.represent_data(v)) for k, v in data.items()],
                flow_style=False,
            )
        if kind is list and self.default_flow_style is False:
            return yaml.SequenceNode(
                "tag:yaml.org,2002:seq", [self.represent_data(v) for v in data], flow_style=False
            )
        return super().represent_data(data)


# Limits. The largest real org configs we know of are a few hundred kB; PagerDuty's longest
# documented text fields are 10,000 characters (OpenAPI `StatusPagePostmortem.message`).
MAX_FILE_CHARS = 4 * 1024 * 1024
MAX_ALIASES = 1000  # e.g. `<<: *service-defaults` on each of 1,000 services
MAX_ALIAS_EXPANSION = 50_000  # nodes the aliases may add, in total, once expanded
MAX_DEPTH = 50
MAX_SCALAR_CHARS = 10_000
MAX_INTEGER = 2**53  # exact in JSON and Pulumi's float wire format

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
REFUSED = "(refused)"  # stands in for a refused scalar, so the model sees a short string


class YamlRefused(Exception):
    """The YAML is unsafe to build into data at all; `line` is 1-based."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def prescan(text: str) -> None:
    """Refuse alias bombs and absurd nesting from the event stream, before composing."""
    aliases = depth = 0
    for event in yaml.parse(text, Loader=FastLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlRefused(
                    _line(event.start_mark),
                    f"more than {MAX_ALIASES} YAML aliases (*name); an org config may reuse "
                    f"at most {MAX_ALIASES} anchors: write the values out instead",
                )
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlRefused(
                    _line(event.start_mark),
                    f"nested more than {MAX_DEPTH} levels deep; an org config needs fewer than 10",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


@dataclass
class NodeScan:
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[tuple[Loc, int, str]] = field(default_factory=list)  # (path, line, message)
    expansion: int = 0  # nodes the aliases add once expanded


def _scalar_problem(node: yaml.ScalarNode) -> str | None:
    value = node.value
    if len(value) > MAX_SCALAR_CHARS:
        return (
            f"a value of {len(value):,} characters; at most {MAX_SCALAR_CHARS:,} are allowed "
            "(PagerDuty's longest text field): link to a document instead"
        )
    if "://" in value and (credentials := url_credentials(value)):
        return f"{'; '.join(credentials)}: {MOVE_HINT}"
    if node.tag == _INT:
        digits = value.replace("_", "").lstrip("+-")
        try:
            number = int(value.replace("_", ""), 0) if len(digits) <= 20 else None
        except ValueError:
            number = 0  # sexagesimal (09:00) or octal spellings: the model decides
        if number is None or abs(number) > MAX_INTEGER:
            shown = value if len(value) <= 24 else f"{value[:20]}... ({len(digits):,} digits)"
            return f"the number {shown} is out of range; whole numbers here are below 2^53"
    if node.tag == _FLOAT:
        spelled = value.replace("_", "").lower().replace(".inf", "inf").replace(".nan", "nan")
        try:
            number_f = float(spelled)
        except ValueError:
            return None
        if not math.isfinite(number_f):
            return f"{value!r} is not a finite number; write a plain number like 1 or 0.5"
    if node.tag == _TIMESTAMP:
        try:
            FastLoader("").construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            return f"{value!r} is not a real date or time ({exc}); write it as YYYY-MM-DD"
    if node.tag not in (_STR, _TIMESTAMP, _MERGE):
        # Explicit tags (`!!int ''`, `!!binary x`) reach constructors that fail on odd input.
        try:
            FastLoader("").construct_object(node)
        except Exception:  # any constructor failure is a bad value here
            return f"{value!r} is not a valid {node.tag.rsplit(':', 1)[-1]} value"
    return None


def scan_nodes(root: yaml.Node) -> NodeScan:
    """One pass over the composed graph: lines, duplicate keys, scalars, alias expansion.

    Raises YamlRefused when the aliases would expand beyond the budget or refer to the
    collection that contains them (a cycle, which no expansion ends).
    """
    scan = NodeScan()
    sizes: dict[int, int] = {}  # id(node) -> expanded node count, for nodes already walked
    active: set[int] = set()  # nodes on the current path (to find cycles)

    def walk(node: yaml.Node, loc: Loc) -> int:
        if id(node) in sizes:  # a second reference to a node: an alias
            scan.expansion += sizes[id(node)]
            if scan.expansion > MAX_ALIAS_EXPANSION:
                raise YamlRefused(
                    node.start_mark.line + 1,
                    f"the YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} extra values "
                    "(an alias bomb?); write the values out instead of nesting aliases",
                )
            return sizes[id(node)]
        if id(node) in active:
            raise YamlRefused(
                node.start_mark.line + 1,
                "a YAML alias refers to a collection that contains it (a cycle)",
            )
        scan.lines[loc] = node.start_mark.line + 1
        size = 1
        if isinstance(node, yaml.ScalarNode):
            problem = _scalar_problem(node)
            if problem:
                scan.problems.append((loc, node.start_mark.line + 1, problem))
                # Build it as a short string: the constructor would fail on it, and the model
                # then reports nothing worse than a wrong type at a path already reported.
                node.tag, node.value = _STR, REFUSED
        else:
            active.add(id(node))
            if isinstance(node, yaml.MappingNode):
                first_line: dict[tuple[str, str], int] = {}
                for key, value in node.value:
                    name = _key_name(key, loc, first_line, scan)
                    size += 1 + walk(value, (*loc, name))
                    scan.lines[(*loc, name)] = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode):
                size += sum(walk(item, (*loc, i)) for i, item in enumerate(node.value))
            active.discard(id(node))
        sizes[id(node)] = size
        return size

    walk(root, ())
    return scan


def _key_name(
    key: yaml.Node, loc: Loc, first_line: dict[tuple[str, str], int], scan: NodeScan
) -> str:
    """The key's name in YAML paths; records a duplicate (naming both lines) or a huge key."""
    line = key.start_mark.line + 1
    if not isinstance(key, yaml.ScalarNode):
        return "?"
    if problem := _scalar_problem(key):
        scan.problems.append(((*loc, "?"), line, f"a key: {problem}"))
        key.tag, key.value = _STR, REFUSED
    name = str(key.value)
    if len(name) > 100:
        scan.problems.append((loc, line, f"a key of {len(name):,} characters; keys are short"))
        return f"{name[:20]}..."
    ident = (key.tag, name)
    if key.tag == _MERGE:
        return name
    if ident in first_line:
        scan.problems.append(
            (
                (*loc, name),
                line,
                f"duplicate key {name!r}: first at line {first_line[ident]}, again at line "
                f"{line}; YAML would silently keep only the last value: keep one",
            )
        )
    else:
        first_line[ident] = line
    return name
