"""Does the article cover this question? Decided before anything is answered.

A similarity threshold alone cannot tell: "knee pain from cycling" sits as
close to the article (cross-training mentions cycling) as many genuine
questions do, and "write a haiku about my sore hip" sits closer still. So
four signals are combined:

1. what the request asks for (``kinds``): a task that is not a question
   (translate, write, role-play), another subject, or a type of answer the
   article never holds (a dose, a price, a plan ...), read by classifiers
   trained on example requests;
2. how close the question is to the best chunk (cosine similarity), with the
   BM25 match as a second opinion for terse questions ("10% rule?");
3. the question's own key terms: words the article never uses that name a
   subject it does not cover (another body part, a population, a test, a
   drug or a brand), listed by category in ``data/scope_terms.tsv``;
4. whether the question asks for a specific the article never gives (a dose,
   an amount, a brand). Then the answer says so and quotes what the article
   does say on the nearest topic, instead of inventing the specific.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .. import datafiles, nlp
from ..history import topical_words
from .kinds import MISSING_TYPES, UNREAD, RequestKind, RequestKinds
from .terms import (
    HIP_WORDS,
    NEIGHBOURS,
    OTHER_BODY_PARTS,
    REQUEST_WORDS,
    RUNNING_WORDS,
    SUBJECT_WORDS,
    UNCOVERED_TERMS,
)

ScopeReason = Literal[
    "ok",
    "empty",
    "small_talk",
    "task",
    "off_topic",
    "uncovered_subject",
    "missing_specific",
    "unavailable",
    "red_flag",
    "care_question",
]

# Requests for a specific figure or product the article never states.
_DOSE = re.compile(r"\b(?:mg|milligrams?|mcg|iu|doses?|dosage|dosing|how many (?:pills|tablets))\b", re.I)
_AMOUNT = re.compile(
    r"\b(?:grams?|liters?|litres?|ml|ounces?|oz|calories|kcal|reps|sets of)\b"
    r"|\bhow (?:much|many)\b(?!\s+(?:time|days?|weeks?|months?|minutes?|hours?|miles?|km|mileage|rest|runs?)\b)"
    r"[^.?!]*\b(?:take|eat|drink|consume)\b",
    re.I,
)
# Subjects spotted by phrase rather than by word (one expression a line in data/scope_phrases.txt).
_UNCOVERED_PHRASES = re.compile("|".join(datafiles.lines("scope_phrases.txt")), re.I)
# A whole message that is only a greeting, thanks or goodbye gets a short reply, not "not covered".
_SMALL_TALK = {
    "greeting": re.compile(r"(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening))(?: there)?", re.I),
    "thanks": re.compile(
        r"(?:(?:many )?thanks(?: a lot| so much)?|thank you(?: so much| very much)?|thx|ty|cheers)", re.I
    ),
    "goodbye": re.compile(r"(?:bye|goodbye|see you|see ya)", re.I),
}
_DIAGNOSIS = re.compile(
    r"(?:\b(?:is|could|might|can|would|does)\s+(?:it|this|that)\s+(?:be\s+|sound\s+like\s+|mean\s+)?"
    r"|\bdo\s+i\s+have\b|\bhave\s+i\s+(?:got|torn|pulled|strained)\b|\bsounds?\s+like\b"
    r"|\bam\s+i\s+(?:dealing\s+with|suffering\s+from)\b)"
    r"(?:(?!\b(?:cause|causes|lead|leads|give|gives|prevent|prevents|help|helps|stop|stops)\b)[^.?!]){0,30}?"
    r"\b(?:" + "|".join(re.escape(w) for w in datafiles.lines("diagnosis_words.txt")) + r")\b"
    r"|\bwhat(?:'s| is)\s+wrong\s+with\s+(?:my|me|it)\b|\bwhat\s+do\s+i\s+have\b"
    r"|\bwhat\s+(?:could|might|would)\s+(?:it|this|that)\s+be\b|\bwhat\s+injury\b",
    re.I,
)
"""A question asking to be told what one has ("is it my IT band?", "do I have a labral tear?"): the article
diagnoses nothing, and a passage that names the structure must not read as a yes."""
_BRAND = re.compile(r"\b(?:which|what) (?:brand|model|make)\b|\bbrands?\b(?! new\b)", re.I)
_TYPO_CUTOFF = 0.84
_PAST_SELF = r"\b(?:as an?|when i was an?|since i was an?|back when i was an?)\s+(?:\w+\s+)?{term}\b"


@dataclass(frozen=True)
class Scope:
    """The verdict on one question, with the evidence for it."""

    covered: bool
    reason: ScopeReason
    """Set by the judge, or by the chain: 'unavailable' (retrieval failed), 'red_flag', 'care_question'."""
    similarity: float
    unknown: tuple[str, ...] = ()
    """Key terms of the question that the article never uses."""
    specific: str | None = None
    """For 'missing_specific': the answer type the article lacks ('dose', 'amount', 'brand', 'price', 'plan' ...);
    for 'small_talk': 'greeting', 'thanks' or 'goodbye'."""
    kind: RequestKind = "article"
    """What the request asks for, as the classifier read it."""


def said_in(question: str, text: str) -> bool:
    """Does `text` use every topic word of `question`, itself or the article's word for it ("physio": physical
    therapist)? Then the passage answers it, whatever type of answer the question reads as asking for."""
    words = topical_words(question)
    if not words or not text:
        return False
    held = set(nlp.stems(text))
    return all(nlp.stem(w) in held or set(nlp.stems(nlp.expand(w))) & held for w in words)


def _as_written(term: str, question: str) -> str:
    """The term as the person typed it ("MRI", "Advil"), for the answer to name it back."""
    found = re.search(rf"\b{re.escape(term)}\b", question, re.IGNORECASE)
    return found.group(0) if found else term


class ScopeJudge:
    """Knows the article's vocabulary; judges each question against it."""

    KIND_MIN = 0.24
    """``Reading.score`` from which a request is taken to be of its kind: a task is refused, another subject is out
    of scope, a missing answer type is said to be missing... Calibrated on the four scope dev sets together (four
    hands, 340 out of scope, 360 in scope): 0.28 -> 0.24 refused 6 more and wrongly one more (91.5% -> 93.2%,
    false 2.2% -> 2.5%); 0.2 would refuse 4 more for 6 more wrongly."""
    NOT_ARTICLE_MIN = 0.5
    """...provided it is also at least as likely not about the article as about it."""
    SHARED_WORDS_MIN = 0.5
    """A request whose words match a passage this well (BM25, squashed to 0..1) is on the article's subject: the
    classifier's "off topic" (code, recipes, taxes) is overruled there ("how do I choose shoes for my foot type"
    shares "choose", "shoes", "foot type" with the FAQ). Another subject or a missing answer type still counts."""
    CLOSE_MIN = 0.75
    """A question this close to a passage (cosine) that names nothing the article does not asks about that passage:
    the classifier's reading of it as asking for a brand or a number the article lacks is overruled ("best shoes
    hip pain", "massage ball for hip pain?"). Words that ask for a brand or a dose ("which brand") still count."""
    VAGUE_MAX = 0.6
    """A question with no word the article lacks and no word it shares is off topic only this likely not about it."""
    ARTICLE_MAX = 0.3
    """Below this probability of not being about the article, a question far from every chunk ("causes",
    "define IT band") is still answered."""

    def __init__(
        self,
        vocabulary: set[str],
        sentence_vectors: np.ndarray,
        *,
        min_similarity: float,
        kinds: RequestKinds | None = None,
        sentence_rows: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        self.kinds = kinds
        self.vocabulary = vocabulary
        self.sentence_vectors = sentence_vectors
        self.sentence_rows = sentence_rows or {}
        """Each chunk's rows in ``sentence_vectors`` (``SentenceTable.rows_by_chunk``)."""
        self.sorted_vocabulary = sorted(vocabulary)
        self._near: dict[str, bool] = {}
        self.min_similarity = min_similarity

    def _reads_as_english(self, question: str) -> bool:
        """The request classifiers learned from English; a question in another language, emoji or a run of
        letters without spaces is left to similarity and the word lists. English requests hold a function word
        ("how", "my", "a") or one of the article's own words ("causes?")."""
        return any(w in nlp.STOPWORDS or nlp.stem(w) in self.vocabulary for w in nlp.words(question))

    SENTENCE_POOL = 50
    """The closest sentence is looked for in this many nearest chunks (``near``): on the article (44 chunks)
    every sentence; on a 10,000-chunk corpus a hundred sentences, not 19,000 (1.4 ms a question)."""

    def closest_sentence(self, vector: np.ndarray, near: Sequence[str] | None = None) -> float:
        """Cosine similarity of the question to the article's closest single sentence (among those of the
        chunks `near`, when given; all otherwise).

        A short question ("Do I need surgery?") sits far from a whole chunk but
        close to the one sentence that answers it.
        """
        if not len(self.sentence_vectors) or not vector.size:
            return 0.0
        rows = [r for c in near for r in self.sentence_rows.get(c, ())] if near is not None else []
        if not rows:
            return float((self.sentence_vectors @ vector).max())
        return float((self.sentence_vectors[rows] @ vector).max())

    def unknown_terms(self, question: str) -> list[str]:
        """Content words whose stems the article never uses (typos of its words, everyday words for its own
        such as "hurts", and words about the request itself, such as "list" or "mentioned", excepted)."""
        unknown = []
        for word in nlp.content_words(question):
            stem = nlp.stem(word)
            if stem in self.vocabulary or word.isdigit() or word in REQUEST_WORDS or word in SUBJECT_WORDS:
                continue
            if word in nlp.everyday_words():  # "physio": the article says physical therapy
                continue
            if self._near_known(stem):
                continue
            unknown.append(word)
        return unknown

    def _near_known(self, stem: str) -> bool:
        """Is this stem a likely typo of one the article uses? Remembered: the scan is the slow part."""
        known = self._near.get(stem)
        if known is None:
            known = bool(difflib.get_close_matches(stem, self.sorted_vocabulary, n=1, cutoff=_TYPO_CUTOFF))
            if len(self._near) < 50_000:
                self._near[stem] = known
        return known

    def judge(
        self,
        question: str,
        similarity: float,
        lexical: float,
        vector: np.ndarray | None = None,
        best_text: str = "",
    ) -> Scope:
        """`similarity`/`lexical`: best dense and BM25 match; `vector`: the question's embedding, for the request
        classifiers; `best_text`: the best-ranked chunk (does it give the amount asked for, or name every topic word)."""
        if not question.strip():
            return Scope(False, "empty", similarity)
        has_numbers = bool(best_text) and nlp.gives_amount(question, best_text)
        bare = question.strip().rstrip("!.? ").strip()
        for name, pattern in _SMALL_TALK.items():
            if pattern.fullmatch(bare):
                return Scope(False, "small_talk", similarity, specific=name)
        reading = UNREAD
        if self.kinds is not None and vector is not None and vector.size and self._reads_as_english(question):
            reading = self.kinds.read(question, vector)
        taken = reading.score >= self.KIND_MIN and reading.not_article >= self.NOT_ARTICLE_MIN
        if reading.kind == "off_topic" and lexical >= self.SHARED_WORDS_MIN:
            taken = False
        kind: RequestKind = reading.kind if taken else "article"
        if kind == "task":
            return Scope(False, "task", similarity, kind=kind)
        unknown = tuple(self.unknown_terms(question))
        tokens = set(nlp.words(question))
        uncovered = [w for w in unknown if w in UNCOVERED_TERMS or w.replace("-", "") in UNCOVERED_TERMS]
        if tokens & HIP_WORDS:
            # "my knee and my hip hurt": the hip part is covered.
            uncovered = [w for w in uncovered if w not in OTHER_BODY_PARTS]
        # "I hurt my hip playing football as a teen": the writer then, not a population the article leaves out.
        uncovered = [w for w in uncovered if not re.search(_PAST_SELF.format(term=re.escape(w)), question, re.I)]
        uncovered += [m.group(0).lower() for m in _UNCOVERED_PHRASES.finditer(question)]
        if uncovered:
            named = tuple(dict.fromkeys(uncovered))
            if all(term.replace("-", "") in NEIGHBOURS for term in named):
                as_written = tuple(_as_written(term, question) for term in named)
                return Scope(False, "missing_specific", similarity, as_written, "unmentioned", kind=kind)
            return Scope(False, "uncovered_subject", similarity, named, kind=kind)
        if kind == "other_subject" and tokens & HIP_WORDS and (not unknown or tokens & RUNNING_WORDS):
            # Another subject is named by a word the article lacks ("first thing to do when my hip starts hurting"
            # names none), or by another activity: "my hip hurts after running downhill" names running.
            kind = "article"
        if kind in ("other_subject", "off_topic"):
            reason: ScopeReason = "uncovered_subject" if kind == "other_subject" else "off_topic"
            return Scope(False, reason, similarity, unknown, kind=kind)
        if kind in MISSING_TYPES and similarity >= self.CLOSE_MIN and not unknown:
            kind = "article"
        specific = self._specific(question)
        if kind in MISSING_TYPES and not (kind == "number" and has_numbers):
            if not (specific is None and said_in(question, best_text)):
                return Scope(False, "missing_specific", similarity, unknown, kind, kind=kind)
            kind = "article"  # "does physio use ultrasound?": the best passage says so in the question's words
        # Far from every passage: off topic when the question names things the article never does, or when it
        # matches no word either and reads as not about the article. A vague "what now?" is asked of the article.
        lost = lexical < 0.3 and reading.not_article >= self.VAGUE_MAX
        # Nothing shared at all (two or more topic words, every one of them a word the article never uses, and
        # no word matched) is off topic whatever the classifiers think: "why is the sky blue" reads like "why
        # does my hip hurt". One strange word is not enough: "how do I stop it happening again" is vague.
        topical = set(topical_words(question))
        strange = len(topical) >= 2 and topical <= set(unknown) and lexical == 0.0
        far = similarity < self.min_similarity and (unknown or lost)
        if far and (reading.not_article >= self.ARTICLE_MAX or strange):
            return Scope(False, "off_topic", similarity, unknown, kind=kind)
        if specific and not (specific == "amount" and has_numbers):
            return Scope(False, "missing_specific", similarity, unknown, specific, kind=kind)
        return Scope(True, "ok", similarity, unknown, kind=kind)

    @staticmethod
    def _specific(question: str) -> str | None:
        for name, pattern in (("dose", _DOSE), ("brand", _BRAND), ("amount", _AMOUNT), ("diagnosis", _DIAGNOSIS)):
            if pattern.search(question):
                return name
        return None
