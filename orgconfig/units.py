"""Typed durations, percentages and time zones as people write them in YAML.

`"15m"`, `"2w"`, `"1h30m"` become `timedelta`; `"10%"` becomes the fraction 0.1. The JSON
Schema keeps them as strings with a pattern, so editors flag a typo before CI does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_RE = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_PATTERN = r"^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
DURATION_HELP = "a duration like 90s, 15m, 1h30m, 2d or 2w (units w, d, h, m, s, largest first)"
# Nothing in an org config lasts longer (PagerDuty's longest turn is 365 days); the cap also
# keeps a typo like 52000000000w from overflowing `timedelta` or Prometheus' int64 durations.
MAX_DURATION = timedelta(days=3650)


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{value!r} is not {DURATION_HELP}")
    if isinstance(value, int):
        # A bare number is ambiguous (seconds? minutes?): refuse rather than guess.
        raise ValueError(f"{value!r} has no unit; write {DURATION_HELP}")
    text = value.strip()
    if len(text) > 40:
        raise ValueError(f"{text[:20]!r}... is too long for {DURATION_HELP}")
    match = _DURATION_RE.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not {DURATION_HELP}")
    seconds = sum(
        int(amount) * _UNIT_SECONDS[unit]
        for amount, unit in zip(match.groups(), "wdhms", strict=True)
        if amount
    )
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than {format_duration(MAX_DURATION)} (10 years)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest spelling of a duration, the inverse of `parse_duration`."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        if unit == "w" and seconds % size:
            continue  # "366d" reads better than "52w2d"
        if seconds >= size:
            amount, seconds = divmod(seconds, size)
            parts.append(f"{amount}{unit}")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "description": DURATION_HELP}),
]

_PERCENT_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
PERCENT_HELP = "a percentage like 10% or 99.9% (0% to 100%)"


def parse_percent(value: Any) -> float:
    if isinstance(value, float) and not isinstance(value, bool) and 0 <= value <= 1:
        return value
    if not isinstance(value, str) or not (match := _PERCENT_RE.match(value.strip())):
        raise ValueError(f"{value!r} is not {PERCENT_HELP}")
    number = float(match.group(1))
    if number > 100:
        raise ValueError(f"{value!r} is over 100%; write {PERCENT_HELP}")
    return round(number / 100, 10)


def format_percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


Percent = Annotated[
    float,
    BeforeValidator(parse_percent),
    PlainSerializer(format_percent, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?\s*%$", "description": PERCENT_HELP}
    ),
]


def parse_time_zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IANA time zone name like Europe/Berlin or UTC")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone name (like Europe/Berlin, America/New_York, UTC)"
        ) from None
    return value


TimeZone = Annotated[
    str,
    BeforeValidator(parse_time_zone),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(available_timezones()),
            "description": "IANA time zone name",
        }
    ),
]

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_time_of_day(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as a sexagesimal number (540): undo that.
        hours, minutes = divmod(value, 60)
        value = f"{hours:02d}:{minutes:02d}"
    if not isinstance(value, str) or not _TIME_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return value.strip()


TimeOfDay = Annotated[
    str,
    BeforeValidator(parse_time_of_day),
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM"}
    ),
]
