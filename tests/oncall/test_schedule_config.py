"""The schedule additions load with file:line problems, and the original form keeps working."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from orgconfig.load import ConfigError, load_config
from orgconfig.model import OrgConfig


def problems_for(data: dict[str, Any], write_config: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(data))
    return [" ".join(str(p).split()) for p in caught.value.problems]


def test_original_rotation_form_is_one_rotation_with_the_schedule_restrictions(prod_data) -> None:
    prod_data["schedules"][0]["restrictions"] = [
        {"type": "daily", "start_time": "09:00", "duration": "8h"}
    ]
    schedule = OrgConfig.model_validate(prod_data).schedule("platform-primary")
    (rotation,) = schedule.all_rotations()
    assert rotation.participants == ["alex-rivera", "sam-okafor"]
    assert [r.start_time for r in rotation.restrictions] == ["09:00"]


def test_time_off_and_overrides_load_dates_and_local_times(prod_data) -> None:
    prod_data["time_off"] = [{"person": "alex-rivera", "from": "2027-02-01", "to": "2027-02-08"}]
    prod_data["overrides"] = [
        {
            "schedule": "platform-primary",
            "person": "sam-okafor",
            "from": "2027-02-01 09:00",
            "to": "2027-02-08T09:00:00+01:00",
        }
    ]
    with pytest.raises(ValueError, match="both with or both without a UTC offset"):
        OrgConfig.model_validate(prod_data)
    prod_data["overrides"][0]["to"] = "2027-02-08 09:00"
    org = OrgConfig.model_validate(prod_data)
    assert org.time_off[0].start == datetime(2027, 2, 1)
    assert org.overrides[0].end == datetime(2027, 2, 8, 9)


def test_bad_time_off_and_overrides_are_all_reported_with_lines(prod_data, write_config) -> None:
    prod_data["time_off"] = [
        {"person": "alex-rivera", "from": "2027-02-08", "to": "2027-02-01"},
        {"person": "alex-rivera", "from": "next tuesday", "to": "2027-02-01"},
    ]
    prod_data["overrides"] = [
        {"schedule": "ghost", "person": "nobody", "from": "2027-02-01", "to": "2027-02-02"}
    ]
    found = problems_for(prod_data, write_config)
    assert len(found) == 4, found
    assert any(
        "time_off[0]: `to` (2027-02-01T00:00) must be after `from` (2027-02-08T00:00)" in p
        for p in found
    )
    assert any(
        "time_off[1].from: 'next tuesday' is not a date or date-time like 2027-02-01" in p
        for p in found
    )
    assert any("overrides[0].schedule: 'ghost' is not a known schedule id" in p for p in found)
    assert any("overrides[0].person: 'nobody' is not a known person id" in p for p in found)
    assert all(".yaml:" in p.split(": ")[0] for p in found)  # file:line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s.pop("rotation"),
            "a schedule needs `rotation`, `rotations` or `follow_the_sun`",
        ),
        (
            lambda s: s.update(
                rotations=[s.pop("rotation")],
                restrictions=[{"type": "daily", "start_time": "09:00", "duration": "8h"}],
            ),
            "schedule-level `restrictions` belong to `rotation`",
        ),
        (
            lambda s: s["rotation"].update(shifts_per_member=0),
            "shifts_per_member 0 must be between 1 and 1000",
        ),
    ],
)
def test_schedule_shape_problems(prod_data, write_config, change: Any, message: str) -> None:
    change(prod_data["schedules"][0])
    (problem,) = problems_for(prod_data, write_config)
    assert "schedules[0]" in problem and message in problem
