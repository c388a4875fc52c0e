"""The referral: the article's own criteria, quoted with where they are, triggered ones first."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import texts
from ..answer import Referral, ReferralCriterion, ReferralKind
from ..errors import HipAssistantError
from .names import RED_FLAGS, URGENCY_ORDER, Criterion

if TYPE_CHECKING:
    from langchain_core.documents import Document


@dataclass(frozen=True)
class CriterionText:
    """A red-flag criterion as the article words it, with where it is."""

    name: Criterion
    title: str
    quote: str
    chunk_id: str
    section: str


class SafetyConfigError(HipAssistantError, RuntimeError):
    """The corpus lacks the referral criteria the safety layer must quote."""


def criteria_from_documents(documents: Sequence[Document]) -> dict[Criterion, CriterionText]:
    """Find the four criteria in the indexed article: section 'When to Seek Professional Help'."""
    keys: dict[Criterion, tuple[str, ...]] = {
        "persistent_pain": ("persistent",),
        "severe_pain": ("severe",),
        "infection": ("infection",),
        "nerve_symptoms": ("numbness", "tingling", "nerve"),
    }
    found: dict[Criterion, CriterionText] = {}
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
    """Builds the referral from the criteria the corpus holds: short, triggered criteria first."""

    def __init__(self, criteria: dict[Criterion, CriterionText]) -> None:
        self.criteria = criteria

    def _criterion(self, name: Criterion, trigger: str | None, quoted: Collection[str] = ()) -> ReferralCriterion:
        c = self.criteria[name]
        in_answer = trigger is not None and c.chunk_id in quoted
        return ReferralCriterion(name, c.title, c.quote, c.chunk_id, c.section, trigger, in_answer)

    def full(
        self,
        current: list[Criterion],
        triggers: dict[Criterion, str],
        *,
        possible: bool = False,
        in_answer: bool = False,
        quoted: Collection[str] = (),
    ) -> Referral:
        """For a message that reports a criterion (or asks when to get care, or may report one). `in_answer`: the
        answer to a care question lists every criterion itself; `quoted`: chunks the answer quotes, so a reported
        criterion among them is named, not quoted again."""
        ordered = [c for c in URGENCY_ORDER if c in current] + [c for c in RED_FLAGS if c not in current]
        criteria = tuple(self._criterion(n, (triggers.get(n) or "") if n in current else None, quoted) for n in ordered)
        if current:
            urgency = texts.URGENCY[ordered[0]]
            heading = texts.REFERRAL_HEADS[ordered[0]]
            return Referral("flagged", heading, criteria, urgency, texts.REFERRAL_DISCLAIMER)
        kind: ReferralKind = "possible" if possible else "care"
        heading = texts.REFERRAL_HEAD_POSSIBLE if possible else texts.REFERRAL_HEAD_CARE
        return Referral(kind, heading, criteria, None, texts.REFERRAL_DISCLAIMER, in_answer=in_answer)

    def short(self, earlier: list[Criterion]) -> Referral:
        """A one-line reminder on later turns: the block is not repeated."""
        names = [c for c in URGENCY_ORDER if c in earlier]
        criteria = tuple(self._criterion(n, "") for n in names)
        return Referral("reminder", texts.REFERRAL_HEAD_EARLIER, criteria, texts.URGENCY[names[0]])
