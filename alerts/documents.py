"""YAML the way people read generated config: keys in order, multi-line PromQL as blocks."""

from __future__ import annotations

from typing import Any

import yaml

from orgconfig.yamlsafe import FastDumper


class _Dumper(FastDumper):  # libyaml's emitter: the pure-Python one is the slow part
    pass


def _str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any, header: str = "") -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True)
    return header + text
