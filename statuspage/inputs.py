"""What the service accepts at its edge: JSON, dates, text and ids from clients.

Everything a client sends passes these rules before anything is stored, so a stored row can
always be read back and rendered (issue 12: a maintenance dated year 1 once froze the page;
a NUL in an annotation broke the Atom feed; deep nesting, 4,300-digit numbers, offsets that
overflow on conversion to UTC and lone surrogates gave 500s).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime

# Dates outside this window are mistakes (or attacks), never a real incident; both ends
# survive every conversion (local time zones, UTC, the database's fixed-width text).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_DEPTH = 32  # an Alertmanager notification nests 4 deep
MAX_NUMBER_CHARS = 32  # CPython refuses integers over 4,300 digits with a ValueError
# XML 1.0 allows neither C0 controls (except tab, newline, carriage return) nor U+FFFE/U+FFFF;
# C1 controls and DEL are legal there but invisible, so they go too. Lone surrogates cannot be
# encoded as UTF-8 at all (PostgreSQL, SQLite and every response would fail on them).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
ID_RE = re.compile(r"^[a-z0-9]{1,32}$")


class InputError(ValueError):
    """A request the service refuses; the message is the reason given to the client."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def _number(kind: str) -> Any:
    convert = int if kind == "integer" else float

    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise InputError(f"a number has {len(text)} characters; at most {MAX_NUMBER_CHARS}")
        return convert(text)

    return parse


def _constant(name: str) -> Any:
    raise InputError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or InputError(400) with the reason: malformed, nested deeper than
    MAX_DEPTH, a number longer than MAX_NUMBER_CHARS or a lone surrogate anywhere."""
    try:
        data = json.loads(
            raw.decode("utf-8"),
            parse_int=_number("integer"),
            parse_float=_number("float"),
            parse_constant=_constant,
        )
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"malformed JSON: {exc}") from None
    _check_tree(data)
    return data


def _check_tree(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise InputError("JSON text contains a lone surrogate (not valid UTF-16)")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels")
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children)


def bad_character(text: str) -> str | None:
    """A description of the first character the page cannot show, or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return f"control character U+{ord(found.group()):04X} at position {found.start()}"


def clean_text(text: str) -> str:
    """The text without the characters the page cannot show (for input we must not refuse,
    such as alert annotations, where refusing would keep an outage off the page)."""
    return _FORBIDDEN.sub("", text)


def check_text(text: str) -> str:
    problem = bad_character(text)
    if problem is not None:
        raise ValueError(f"contains a {problem}; use printable text (tabs and newlines are fine)")
    return text


def check_moment(moment: datetime) -> datetime:
    """The moment in UTC, if it lies within EARLIEST..LATEST."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None  # e.g. 9999-12-31T23:59:59-14:00 has no UTC equivalent
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"{moment.isoformat()} is outside the accepted window "
            f"({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}, UTC)"
        )
    return utc


def in_window(moment: datetime | None) -> bool:
    if moment is None:
        return True
    try:
        check_moment(moment)
    except ValueError:
        return False
    return True


# Pydantic types for request bodies: text without control characters, sane UTC moments.
Text = Annotated[str, AfterValidator(check_text)]
Moment = Annotated[AwareDatetime, AfterValidator(check_moment)]
