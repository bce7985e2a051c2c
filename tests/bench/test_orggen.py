"""The benchmark org generator gives configs the loader accepts, of the size asked for."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.orggen import generate_org, main
from orgconfig.load import parse_config


def test_generated_org_loads_with_the_asked_sizes() -> None:
    org = parse_config(yaml.safe_dump(generate_org(120, teams=7)), "generated.yaml")
    assert len(org.services) == 121  # plus page-test
    assert len(org.teams) == 7
    assert len(org.escalation_policies) == 7
    assert {s.escalation_policy for s in org.services} == {t.id for t in org.teams}
    assert all(len(p.tiers) == 4 for p in org.escalation_policies)  # what the policy pack asks
    assert org.status_page is not None
    assert len(org.status_page.component_ids()) == 120


def test_cli_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "org.yaml"
    assert main(["--services", "10", "--teams", "3", "--out", str(out)]) == 0
    org = parse_config(out.read_text(), str(out))
    assert [s.id for s in org.services][-1] == "page-test"
    assert len(org.people) == 3 * 4 + 1  # four a team, one executive for all


def test_cli_writes_no_yaml_aliases(tmp_path: Path) -> None:
    # Shared values dumped as anchors/aliases would pass the loader's 200-alias budget at
    # about 400 services: the 1,000-service benchmark org was refused before it rendered.
    out = tmp_path / "org.yaml"
    assert main(["--services", "10", "--teams", "3", "--out", str(out)]) == 0
    events = list(yaml.parse(out.read_text()))
    assert not [e for e in events if isinstance(e, yaml.AliasEvent)]
    assert not [e for e in events if getattr(e, "anchor", None)]
