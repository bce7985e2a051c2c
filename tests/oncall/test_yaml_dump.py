"""The fast YAML writer used for rendered artifacts writes exactly what libyaml's CSafeDumper
writes, on the documents a render produces (so reviewers' diffs never change with it)."""

from __future__ import annotations

from pathlib import Path

import yaml

from irctl.render import render
from orgconfig.load import load_config
from orgconfig.yamlsafe import FastDumper
from tests.conftest import PROD


def test_fast_dumper_writes_what_safe_dumper_writes(tmp_path: Path) -> None:
    render(load_config(PROD), "prod", PROD, tmp_path)
    documents = [
        yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        for path in sorted(tmp_path.rglob("*.yaml"))
    ]
    assert len(documents) > 10
    documents.append({"empty": {}, "none": [], "nested": [{"a": [1, 2.5, None, True]}], "x": ""})
    for document in documents:
        for options in ({"sort_keys": False}, {"sort_keys": True}, {"default_flow_style": None}):
            fast = yaml.dump(document, Dumper=FastDumper, allow_unicode=True, **options)
            safe = yaml.dump(document, Dumper=yaml.CSafeDumper, allow_unicode=True, **options)
            assert fast == safe
