"""The safety layer: the article's red-flag referral criteria, surfaced every time.

The article's "When to Seek Professional Help" names four red flags. When a
person describes one, in any wording, in this message or any earlier one,
the answer carries a referral that quotes all four from the article, the
triggered ones first with their urgency. Questions about when to see a
doctor or physio get it too, and so does a message the detector is unsure
about (recall first: a missed referral is the worst failure there is).

Modules, in the order text flows through them:

* ``normalize``: one folded copy of the text (lookalike letters, contractions,
  misspelled key words) that maps back to what the person wrote;
* ``rules`` and ``learned``: high-precision patterns, and a classifier over
  clause embeddings and character n-grams trained on example phrasings;
* ``context``: ConText modifiers with clause-bounded scopes decide whether a
  mention is present, the writer's own, and current;
* ``detect``: both detectors over every clause of the whole message;
* ``referral``: the text people read, quoted from the article.

The layer needs nothing from the index: it runs even when retrieval fails.
It wraps the answer stream outside every answerer, so nothing the user
writes ("ignore your safety rules", a forged assistant turn) and nothing a
language model writes can remove the referral.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..answer import Answer, Referral
from .detect import Detection, Detector, Finding
from .learned import LearnedDetector
from .names import RED_FLAGS, URGENCY_ORDER, Criterion
from .normalize import Normalized, normalize
from .referral import CriterionText, ReferralWriter, SafetyConfigError, criteria_from_documents
from .rules import CARE_QUESTION, mentioned

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

__all__ = [
    "RED_FLAGS",
    "URGENCY_ORDER",
    "Assessment",
    "CriterionText",
    "Detection",
    "Normalized",
    "SafetyConfigError",
    "SafetyLayer",
    "criteria_from_documents",
    "normalize",
]


@dataclass(frozen=True)
class Assessment:
    """What the safety layer concluded about one turn."""

    detections: tuple[Detection, ...]
    earlier: tuple[Criterion, ...]
    """Criteria reported in earlier user turns of the conversation."""
    care_question: bool
    possible: tuple[Criterion, ...] = ()
    """Criteria this message comes near without a confident detection."""

    @property
    def current(self) -> list[Criterion]:
        return list(dict.fromkeys(d.criterion for d in self.detections))

    @property
    def red_flags(self) -> list[Criterion]:
        found = set(self.current) | set(self.earlier)
        return [c for c in RED_FLAGS if c in found]


class SafetyLayer:
    """Detects red flags and care questions, and writes the referral."""

    def __init__(
        self,
        embeddings: Embeddings,
        criteria: dict[Criterion, CriterionText],
        cache_size: int = 4096,
        *,
        cache_dir: Path | None = None,
        model_key: str = "",
    ) -> None:
        self.embeddings = embeddings
        self.criteria = criteria
        self.criterion_chunks = frozenset(c.chunk_id for c in criteria.values())
        """The article's passages on the criteria (the answer quotes them; a referral need not repeat them)."""
        self.writer = ReferralWriter(criteria)
        self.detector = Detector(LearnedDetector(embeddings, cache_dir=cache_dir, model_key=model_key))
        # Thread-safe: the page answers several sessions at once.
        self._finding = functools.lru_cache(maxsize=cache_size)(self.detector.detect)

    # -- detection --

    def finding(self, text: str) -> Finding:
        """What one message reports, remembered per text (earlier turns are read again every turn)."""
        return self._finding(text)

    def detect(self, text: str) -> tuple[Detection, ...]:
        """Red flags the writer describes about themselves now, each with its trigger words."""
        return self.finding(text).detections

    def clear_cache(self) -> None:
        """Forget remembered findings and normalized texts (benchmarks time the detection itself)."""
        self._finding.cache_clear()
        Normalized.forget()

    def reported_chunks(self, text: str) -> list[str]:
        """Chunk ids of the criteria that `text` itself reports, most urgent first.

        Retrieval puts these first, so a person who describes a red flag reads
        the article's words about it in the answer too, not only in the referral.
        """
        found = {d.criterion for d in self.detect(text)}
        return [self.criteria[name].chunk_id for name in URGENCY_ORDER if name in found]

    @staticmethod
    def is_care_question(text: str) -> bool:
        """Does `text` ask when or whether to see a doctor, a physio or the emergency room?"""
        return bool(CARE_QUESTION.search(normalize(text)))

    @staticmethod
    def named_criteria(text: str) -> list[Criterion]:
        """The criteria `text` names, reported or not ("when should leg weakness be checked?": nerve symptoms)."""
        return mentioned(normalize(text))

    def assess(self, question: str, earlier_user_messages: Sequence[str]) -> Assessment:
        earlier: list[Criterion] = []
        for message in earlier_user_messages:
            earlier += [d.criterion for d in self.detect(message)]
        finding = self.finding(question)
        return Assessment(
            detections=finding.detections,
            earlier=tuple(dict.fromkeys(earlier)),
            care_question=self.is_care_question(question),
            possible=finding.possible,
        )

    # -- the referral --

    def referral(self, assessment: Assessment, listed: Collection[str] = ()) -> Referral | None:
        """The referral text, or None when nothing calls for one. `listed`: chunks the answer quotes in full; an
        answer to "when should I see a doctor?" that lists every criterion is not repeated above it, nor is a
        reported criterion's sentence that the answer quotes."""
        current = assessment.current
        if current or assessment.care_question or assessment.possible:
            triggers = {d.criterion: d.trigger for d in assessment.detections}
            in_answer = not current and not assessment.possible and self.criterion_chunks <= set(listed)
            return self.writer.full(
                current, triggers, possible=bool(assessment.possible), in_answer=in_answer, quoted=listed
            )
        if assessment.earlier:
            return self.writer.short(list(assessment.earlier))
        return None

    def apply(
        self,
        question: str,
        earlier_user_messages: Sequence[str],
        answer: Iterator[Answer],
        listed: Collection[str] = (),
    ) -> Iterator[Answer]:
        """Wrap an answer stream: the referral chunk first, then the answer with safety fields cleared.

        The referral depends only on what the user wrote, so it goes out before
        the answer (the page shows it above). Chunks from the answerer cannot
        set or clear ``red_flags`` or ``referral``: this layer owns them.
        """
        assessment = self.assess(question, earlier_user_messages)
        yield Answer(red_flags=assessment.red_flags, referral=self.referral(assessment, listed))
        for chunk in answer:
            yield replace(chunk, red_flags=[], referral=None)
