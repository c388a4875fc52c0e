"""Readable, high-precision patterns for the four red flags and for care-seeking questions.

They run over the normalized text (``normalize``); whether a match is a
present, first-person finding is decided afterwards by ``context``. The
patterns are data (``data/red_flag_rules.tsv``), read once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import datafiles

RULES_FILE = "red_flag_rules.tsv"


@dataclass(frozen=True)
class Rule:
    criterion: str
    pattern: re.Pattern
    needs: re.Pattern | None = None
    """A second pattern that must match in the same sentence (context)."""


def _load() -> tuple[tuple[Rule, ...], re.Pattern, dict[str, str]]:
    """The rules, the care-question pattern and the named pieces, from ``data/red_flag_rules.tsv``."""
    pieces: dict[str, str] = {}
    rules: list[Rule] = []
    care: list[str] = []

    def expand(pattern: str) -> str:
        for name, value in pieces.items():
            pattern = pattern.replace("{" + name + "}", value)
        return pattern

    for fields in (line.split("\t") for line in datafiles.lines(RULES_FILE)):
        kind, rest = fields[0], fields[1:]
        if kind == "define":
            pieces[rest[0]] = expand(rest[1])
        elif kind == "rule":
            needs = expand(rest[2]) if len(rest) > 2 and rest[2] else None
            rules.append(Rule(rest[0], re.compile(expand(rest[1])), re.compile(needs) if needs else None))
        elif kind == "care":
            care.append(expand(rest[0]))
        else:
            raise ValueError(f"{RULES_FILE}: unknown line kind {kind!r} (allowed: define, rule, care)")
    return tuple(rules), re.compile("|".join(care)), pieces


RULES, CARE_QUESTION, _PIECES = _load()
NOT_BETTER = re.compile(rf"\b(?:{_PIECES['NOT_BETTER']})\b|\bstill\b")
"""Says the pain is not getting better (which outweighs any word of improvement in the same message)."""
