"""Blame in a postmortem: phrases, people's names next to blame verbs, actions aimed at people.

Three tables, one loop each. The phrase table is the maintained list (documented in
docs/postmortems/README.md); every entry carries the blameless wording to write instead.
Why it matters (Google SRE book, "Postmortem Culture"; PagerDuty's postmortem guide): a
write-up that names a culprit stops the analysis at the person, so the conditions that made
the action reasonable at the time are never found and never fixed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orgconfig.model import Person

_SYSTEM = "say what the system or process did or did not do"
BLAME_PHRASES: dict[str, str] = {
    "failed to": f"{_SYSTEM}: 'the deploy did not run the migration'",
    "forgot": "name the missing step or reminder: 'no checklist step covers rotating the key'",
    "forgotten": "name the missing step or reminder: 'no checklist step covers rotating the key'",
    "should have checked": "name the missing check: 'nothing checked the config before rollout'",
    "should have known": "write what was known at the time, and where the knowledge lived",
    "should have": "write what was known and decided at the time, and what will change",
    "careless": "describe the action and what made it look safe at the time",
    "carelessly": "describe the action and what made it look safe at the time",
    "negligent": "describe the gap in the process that allowed it",
    "negligence": "describe the gap in the process that allowed it",
    "human error": "name the condition that made the slip likely: a confusing prompt, no guard",
    "blame": "explain the conditions instead of assigning fault",
    "blamed": "explain the conditions instead of assigning fault",
    "at fault": "explain the conditions instead of assigning fault",
    "his fault": "explain the conditions instead of assigning fault",
    "her fault": "explain the conditions instead of assigning fault",
    "their fault": "explain the conditions instead of assigning fault",
    "incompetent": "describe what the person saw and which information was missing",
    "sloppy": "describe the step and the guard that was missing",
    "lazy": "describe the step and why it was skipped (time pressure, unclear runbook)",
    "stupid": "describe the decision and the information available when it was made",
    "dropped the ball": "name the hand-off or signal that did not work",
    "screwed up": f"{_SYSTEM}",
    "messed up": f"{_SYSTEM}",
    "did not bother": "describe why the step looked unnecessary at the time",
    "didn't bother": "describe why the step looked unnecessary at the time",
    "be more careful": "change the system so the safe action is the easy one: add a guard",
    "more careful": "change the system so the safe action is the easy one: add a guard",
    "pay more attention": "make the signal impossible to miss: alert, checklist, guard",
}

# Verbs that judge a person when a person is their subject ("Sam broke", "caused by Sam").
BLAME_VERBS = (
    "broke", "caused", "forgot", "failed", "missed", "ignored", "neglected", "botched",
    "overlooked", "mistakenly", "wrongly", "carelessly", "blundered", "skipped",
    "did not check", "didn't check", "did not follow", "didn't follow", "did not read",
    "didn't read",
)  # fmt: skip
# Actions that aim at a person instead of at the system. The corrective ones are flagged
# before any capitalised word ("Retrain Bob": people outside the config count too); the
# everyday ones only before the name of someone in the config ("remind Sam").
CORRECTIVE_ACTIONS = ("retrain", "re-train", "reprimand", "discipline", "coach", "re-educate")
PERSON_ACTIONS = (
    *CORRECTIVE_ACTIONS, "train", "remind", "warn", "talk to", "speak to", "speak with",
    "have a word with", "educate",
)  # fmt: skip


@dataclass(frozen=True)
class BlameFinding:
    line: int
    column: int
    text: str
    message: str


def _alternation(phrases: Iterable[str]) -> str:
    # Longest first, so "should have checked" wins over "should have".
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


_PHRASE_RE = re.compile(rf"\b({_alternation(BLAME_PHRASES)})\b", re.IGNORECASE)


def person_names(people: Sequence[Person]) -> list[str]:
    """Every way a person is named in prose: full name, first name, config id."""
    names: set[str] = set()
    for person in people:
        names.update({person.name, person.name.split()[0], person.id})
    return sorted(names, key=len, reverse=True)


class BlameScanner:
    """Finds blame in lines of text; built once per org config."""

    def __init__(self, people: Sequence[Person]) -> None:
        names = _alternation(person_names(people))
        verbs = _alternation(BLAME_VERBS)
        self._named = (
            [
                re.compile(
                    rf"\b(?P<who>{names})(?:'s)?\b(?:\W+\w+){{0,3}}?\W+(?P<verb>{verbs})\b",
                    re.IGNORECASE,
                ),
                re.compile(
                    rf"\b(?P<verb>caused|broken|triggered)\s+by\s+(?P<who>{names})\b",
                    re.IGNORECASE,
                ),
            ]
            if names
            else []
        )
        self._actions = [
            re.compile(rf"\b(?P<verb>(?i:{_alternation(CORRECTIVE_ACTIONS)}))\s+[A-Z][a-z]+\b")
        ]
        if names:
            self._actions.append(
                re.compile(rf"\b(?P<verb>(?i:{_alternation(PERSON_ACTIONS)}))\s+(?i:{names})\b")
            )

    def scan(self, lines: Sequence[str], first_line: int = 1) -> list[BlameFinding]:
        findings: list[BlameFinding] = []
        for number, line in enumerate(lines, start=first_line):
            for match in _PHRASE_RE.finditer(line):
                phrase = re.sub(r"\s+", " ", match.group(1).lower())
                findings.append(
                    BlameFinding(
                        number,
                        match.start() + 1,
                        match.group(0),
                        f'blaming phrase "{match.group(0)}": {BLAME_PHRASES[phrase]}',
                    )
                )
            for pattern in self._named:
                for match in pattern.finditer(line):
                    findings.append(
                        BlameFinding(
                            number,
                            match.start() + 1,
                            match.group(0),
                            f'"{match.group(0)}" puts a person next to "{match.group("verb")}": '
                            "write what happened to the system and why the action made sense "
                            "then, e.g. 'the deploy of 10:02 removed the index'",
                        )
                    )
            seen: set[int] = set()
            for match in (m for p in self._actions for m in p.finditer(line)):
                if match.start() in seen:
                    continue
                seen.add(match.start())
                findings.append(
                    BlameFinding(
                        number,
                        match.start() + 1,
                        match.group(0),
                        f'action "{match.group(0)}" is aimed at a person: aim it at the '
                        "system, e.g. 'add a pre-deploy check for X', 'document Y in the "
                        "runbook', 'run a drill of Z for the whole rotation'",
                    )
                )
        return sorted(findings, key=lambda f: (f.line, f.column))
