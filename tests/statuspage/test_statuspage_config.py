"""The config file: the documented example loads, mistakes are reported readably."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from live_service import CONFIG

from statuspage.cli import main
from statuspage.config import ConfigError, load_config, parse_config, parse_duration

EXAMPLE = Path(__file__).parents[2] / "statuspage" / "example.yaml"


def test_the_documented_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.page.time_zone == "Europe/Berlin"
    api = config.component_for_service("orders-api")
    assert api is not None and api.id == "public-api"
    check = api.checks[0]
    assert check.type == "http" and check.timeout == timedelta(seconds=5)
    assert check.degraded_latency == timedelta(milliseconds=1500)
    assert config.publish.s3 is not None and config.publish.s3.prefix == "status/"


def test_readme_example_is_the_example_file() -> None:
    readme = (EXAMPLE.parent / "README.md").read_text()
    assert EXAMPLE.read_text().strip() in readme


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("5s", timedelta(seconds=5)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["5", 5, "5 minutes", "", "1m1h"])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(bad)


def test_errors_name_the_file_the_path_and_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "status.yaml"
    path.write_text(
        "page: {id: Acme, name: A, url: 'ftp://x'}\n"
        "components:\n"
        "  - id: api\n"
        "    name: API\n"
        "    colour: red\n"
        "    checks:\n"
        "      - {id: c, type: http, url: 'http://x', method: FETCH, timeout: 5}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "page.id: 'Acme' is not an id: use lowercase letters, digits and dashes" in message
    assert "page.url: 'ftp://x' is not a URL" in message
    assert "components[0].colour: is not a known setting" in message
    assert "components[0].checks[0].method: 'FETCH' is not allowed" in message
    assert "'GET'" in message
    assert "components[0].checks[0].timeout: 5 is not a duration" in message


def test_a_service_drives_exactly_one_component() -> None:
    data = {**CONFIG, "components": [{"id": "db", "name": "DB", "services": ["orders"]}]}
    with pytest.raises(ConfigError, match="'orders' is mapped to both 'api' and 'db'"):
        parse_config(data)


def test_unknown_time_zone() -> None:
    with pytest.raises(ConfigError, match="not an IANA time zone"):
        parse_config({**CONFIG, "page": {**CONFIG["page"], "time_zone": "Mars/Olympus"}})


def test_cli_reports_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("page: [unclosed\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "Traceback" not in err
    assert main(["serve", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the config file" in capsys.readouterr().err
    assert main(["check-config", str(EXAMPLE)]) == 0


def test_serve_reports_an_unusable_database_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATUSPAGE_DATABASE_URL", "sqlite:////nonexistent/dir/status.db")
    assert main(["serve", "--config", str(EXAMPLE)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot use the database sqlite:////nonexistent/dir/status.db")
    assert "Traceback" not in err
    monkeypatch.setenv("STATUSPAGE_DATABASE_URL", "postgresql://u:hunter2@127.0.0.1:1/db")
    assert main(["serve", "--config", str(EXAMPLE)]) == 1
    err = capsys.readouterr().err
    assert "u:***@127.0.0.1:1/db" in err and "hunter2" not in err


def test_the_org_config_validates_checks_with_the_services_own_models(
    write_config: Callable[[dict[str, Any]], Path], prod_data: dict[str, Any]
) -> None:
    """One home for the schema: the IaC side reads checks with statuspage/config.py's models
    (same defaults, same duration spelling) and validates what it renders with them."""
    from deploy.statuspage_config import statuspage_config
    from orgconfig import statuspage as org_statuspage
    from orgconfig.load import ConfigError as OrgConfigError
    from orgconfig.load import load_config
    from statuspage import config as service_config

    assert org_statuspage.HttpCheck is service_config.HttpCheck
    assert org_statuspage.TcpCheck is service_config.TcpCheck

    data = prod_data
    checks = data["status_page"]["groups"][0]["components"][0]["checks"]
    checks[0]["interval"] = "1m30s"
    rendered = statuspage_config(load_config(write_config(data)))
    check = rendered["groups"][0]["components"][0]["checks"][0]
    assert (check["interval"], check["timeout"], check["degraded_latency"]) == ("1m30s", "5s", "3s")
    assert parse_config(rendered, "rendered").all_components()

    checks[0]["interval"] = "2w"  # the org config's own durations have weeks; checks do not
    with pytest.raises(OrgConfigError) as caught:
        load_config(write_config(data))
    assert "'2w' is not a duration like 500ms, 5s, 15m, 1h30m or 2d" in caught.value.report()
