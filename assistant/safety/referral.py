"""The referral: the article's own criteria, quoted with where they are, triggered ones first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import texts
from .names import RED_FLAGS, URGENCY_ORDER


@dataclass(frozen=True)
class CriterionText:
    """A red-flag criterion as the article words it, with where it is."""

    name: str
    title: str
    quote: str
    chunk_id: str
    section: str


class SafetyConfigError(RuntimeError):
    """The corpus lacks the referral criteria the safety layer must quote."""


def criteria_from_documents(documents: Sequence) -> dict[str, CriterionText]:
    """Find the four criteria in the indexed article: section 'When to Seek Professional Help'."""
    keys = {
        "persistent_pain": ("persistent",),
        "severe_pain": ("severe",),
        "infection": ("infection",),
        "nerve_symptoms": ("numbness", "tingling", "nerve"),
    }
    found: dict[str, CriterionText] = {}
    for doc in documents:
        meta = doc.metadata
        if "seek professional help" not in meta["section"].lower() or meta.get("kind") != "item":
            continue
        title = meta.get("title", "")
        for name, words in keys.items():
            if name not in found and any(w in title.lower() for w in words):
                body = doc.page_content
                quote = body[len(title) + 1 :].strip() if body.startswith(title + ":") else body
                found[name] = CriterionText(name, title, quote, meta["chunk_id"], meta["section"])
    missing = [n for n in RED_FLAGS if n not in found]
    if missing:
        raise SafetyConfigError(
            "The corpus must contain the article's 'When to Seek Professional Help' items for: " + ", ".join(missing)
        )
    return found


class ReferralWriter:
    """Writes the referral text from the criteria the corpus holds."""

    def __init__(self, criteria: dict[str, CriterionText]) -> None:
        self.criteria = criteria

    def _line(self, name: str, trigger: str | None) -> str:
        c = self.criteria[name]
        urgency = texts.URGENCY[name]
        you_wrote = f' (you wrote: "{trigger}")' if trigger else ""
        label = f"{c.title.upper()}: {urgency}" if trigger is not None else c.title
        return f"- {label}{you_wrote}. \u201c{c.quote}\u201d [{c.section} > {c.title}: {c.chunk_id}]"

    def full(self, current: list[str], triggers: dict[str, str], *, possible: bool = False) -> str:
        ordered = [c for c in URGENCY_ORDER if c in current] + [c for c in RED_FLAGS if c not in current]
        head = texts.REFERRAL_HEAD_POSSIBLE if possible and not current else texts.REFERRAL_HEAD_CARE
        lines = [texts.REFERRAL_HEAD_FLAGGED if current else head]
        lines += [self._line(name, triggers.get(name) if name in current else None) for name in ordered]
        lines.append(texts.REFERRAL_DISCLAIMER)
        return "\n".join(lines)

    def short(self, earlier: list[str]) -> str:
        names = [c for c in URGENCY_ORDER if c in earlier]
        lines = [texts.REFERRAL_HEAD_EARLIER]
        for name in names:
            c = self.criteria[name]
            lines.append(f"- {c.title}: {texts.URGENCY[name]}. \u201c{c.quote}\u201d [{c.chunk_id}]")
        lines.append(texts.REFERRAL_DISCLAIMER)
        return "\n".join(lines)
