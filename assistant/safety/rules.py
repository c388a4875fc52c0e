"""Readable, high-precision patterns for the four red flags and for care-seeking questions.

They run over the normalized text (``normalize``); whether a match is a
present, first-person finding is decided afterwards by ``context``. The
patterns are data (``data/red_flag_rules.tsv``), read once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import datafiles
from .names import RED_FLAGS, Criterion

RULES_FILE = "red_flag_rules.tsv"


@dataclass(frozen=True)
class Rule:
    criterion: Criterion
    pattern: re.Pattern[str]
    needs: re.Pattern[str] | None = None
    """A second pattern that must match in the same sentence (context)."""


def _load() -> tuple[tuple[Rule, ...], tuple[Rule, ...], re.Pattern[str], dict[str, str]]:
    """The rules, those for other languages, the care-question pattern and the named pieces, from
    ``data/red_flag_rules.tsv``."""
    pieces: dict[str, str] = {}
    rules: list[Rule] = []
    other: list[Rule] = []
    care: list[str] = []

    def expand(pattern: str) -> str:
        for name, value in pieces.items():
            pattern = pattern.replace("{" + name + "}", value)
        return pattern

    for fields in (line.split("\t") for line in datafiles.lines(RULES_FILE)):
        kind, rest = fields[0], fields[1:]
        if kind == "define":
            pieces[rest[0]] = expand(rest[1])
        elif kind in ("rule", "other_language"):
            criterion = rest[0]
            if criterion not in RED_FLAGS:
                raise datafiles.DataFileError(
                    f"{RULES_FILE}: unknown criterion {criterion!r} (allowed: {', '.join(RED_FLAGS)})"
                )
            needs = expand(rest[2]) if len(rest) > 2 and rest[2] else None
            rule = Rule(criterion, re.compile(expand(rest[1])), re.compile(needs) if needs else None)
            (rules if kind == "rule" else other).append(rule)
        elif kind == "care":
            care.append(expand(rest[0]))
        else:
            raise datafiles.DataFileError(
                f"{RULES_FILE}: unknown line kind {kind!r} (allowed: define, rule, other_language, care)"
            )
    return tuple(rules), tuple(other), re.compile("|".join(care)), pieces


RULES, OTHER_LANGUAGE_RULES, CARE_QUESTION, _PIECES = _load()
NOT_BETTER = re.compile(
    rf"\b(?:{_PIECES['NOT_BETTER']})\b|\bstill\b(?!\s+(?:\w+\s+)?(?:a\s+(?:bit|little|touch|tad)|slightly|mildly|only)\b)"
)
"""Says the pain is not getting better (which outweighs any word of improvement in the same message); "still a
bit tender" after "80% better" is what is left of it, not that."""


PAIN_WORD = re.compile(rf"\b(?:{_PIECES['PAIN']})\b|\bpain\b")
"""A word for the pain itself ("hurts", "sore", "niggle", "hip"): what persistent pain is said with."""


def mentioned(text: str) -> list[Criterion]:
    """The criteria a text names, whatever their context: "when should leg weakness be checked?" asks about the
    nerve criterion, though it reports nothing. `text` is normalized (``normalize.normalize``)."""
    return [
        c
        for c in RED_FLAGS
        if any(r.criterion == c and r.pattern.search(text) and (r.needs is None or r.needs.search(text)) for r in RULES)
    ]
