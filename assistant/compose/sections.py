"""Which sections answer a question: their best-ranked chunk, the words shared with their titles, their lead-ins
and the questions each answers whole; the sections that parts of a question name."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .. import nlp
from ..classify import cached_vectors, load_jsonl
from ..embeddings import embed_texts
from .shapes import ShapeReader
from .structure import Plan, Section, prefixed_terms
from .words import ASKS_ELSE, PART_BREAK

if TYPE_CHECKING:
    from ..retrieval import Ranking


class SectionReader(ShapeReader):
    """Section scores and lists of ``Composer`` (a part of a question asks for a list by its shape)."""

    OWN_TERMS_WEIGHT = 0.15
    """What each word the question shares with a section's own title adds to its best chunk's score: "avoid"
    (read as "prevent") names the prevention section however the embedding ranks its items. Titles only:
    lead-ins share words across sections ("better than treating it" opens the prevention section)."""

    LEAD_WEIGHT = 0.25
    """What the question's similarity to a section's lead-in adds: the lead-in says what the section offers
    ("there are several treatment options available to help you recover"), so "my hip hurts after running,
    what should I do?" is a treatment question though its words are as close to the causes' items."""

    SECTION_ASKED_WEIGHT = 0.75
    """What the question's nearness to the questions a section answers whole adds (``section_questions``): "how do
    I handle the emotional side of a hip injury?" is as near the treatment items as the psychological ones, and
    nearest the psychological section's own questions. Swept on the broad dev sets (0.25-1.5); 0.75 is the
    largest that lowered none."""

    PART_MIN = 0.3

    PART_MARGIN = 0.1
    """A part of a question ("..., and when should I see a professional?", "prevention, treatment, nutrition")
    names a section when the section scores at least PART_MIN for that part alone and beats the next by
    PART_MARGIN: then a list or summary gives that section too (a part about nothing in particular,
    "what are my options", scores about the same for every section)."""

    TITLE_MIN_SIMILARITY = 0.6
    """A part this close to a section's title names it outright ("the FAQ section", "prevention")."""

    MAX_PARTS = 6

    def part_texts(self, question: str) -> list[str]:
        """The parts of a question (``PART_BREAK``)."""
        return [p.strip() for p in PART_BREAK.split(question) if p and p.strip()][: self.MAX_PARTS]

    def parts(self, question: str) -> list[tuple[str, np.ndarray]]:
        """The parts of a question, each with its own embedding (only a question of several parts is embedded
        again); the last question's are kept, since a plan may read them twice (the lists they ask for, the
        passages they ask)."""
        kept = self._last_parts
        if kept is not None and kept[0] == question:
            return kept[1]
        texts = self.part_texts(question)
        parts = list(zip(texts, embed_texts(self.embeddings, texts), strict=True)) if len(texts) > 1 else []
        self._last_parts = (question, parts)
        return parts

    _last_parts: tuple[str, list[tuple[str, np.ndarray]]] | None = None

    @cached_property
    def title_vectors(self) -> np.ndarray:
        """The listable sections' titles, embedded once (cached like the example questions)."""
        titles = [s.title for s in self.listable]
        return cached_vectors(self.embeddings, titles, self.cache_dir, self.model_key, "section-titles")

    @cached_property
    def lead_vectors(self) -> np.ndarray:
        """Each listable section's lead-in text (its own words, without the title the index adds), embedded
        once; a section without one has a zero vector."""
        leads = [" ".join(self.documents[c].page_content for c in s.leads) for s in self.listable]
        present = [t for t in leads if t]
        if not present:
            return np.zeros((len(leads), self.title_vectors.shape[1]), dtype=np.float32)
        vectors = cached_vectors(self.embeddings, present, self.cache_dir, self.model_key, "section-leads")
        out = np.zeros((len(leads), vectors.shape[1]), dtype=np.float32)
        out[[i for i, t in enumerate(leads) if t]] = vectors
        return out

    @cached_property
    def section_questions(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Questions each listable section answers whole (``data/section_questions.jsonl``, written from the
        article alone), embedded once, and each section's rows among them."""
        asked = {row["section"]: row["questions"] for row in load_jsonl("section_questions.jsonl")}
        texts = [q for s in self.listable for q in asked.get(s.title, [])]
        if not texts:
            return np.zeros((0, self.title_vectors.shape[1]), dtype=np.float32), [
                np.zeros(0, dtype=np.intp) for _ in self.listable
            ]
        vectors = cached_vectors(self.embeddings, texts, self.cache_dir, self.model_key, "section-questions")
        rows, start = [], 0
        for s in self.listable:
            n = len(asked.get(s.title, []))
            rows.append(np.arange(start, start + n, dtype=np.intp))
            start += n
        return vectors, rows

    def _section_asked(self, vector: np.ndarray) -> np.ndarray:
        """Per listable section: how nearly the question is one its whole list answers."""
        vectors, rows = self.section_questions
        sims = vectors @ vector if len(vectors) else np.zeros(0, dtype=np.float32)
        return np.array([float(sims[r].max()) if len(r) else 0.0 for r in rows], dtype=np.float32)

    def _section_scores(self, text: str, vector: np.ndarray, ranking: Ranking | None = None) -> list[float]:
        """Per listable section: its best-ranked chunk for `text` (`ranking`, when the caller ranked already),
        the words `text` shares with its title, and its lead-in's similarity."""
        assert self.rank is not None
        if ranking is None:
            ranking = self.rank(text, vector)
        asked = prefixed_terms(nlp.expand(text))
        offers = self.lead_vectors @ vector
        whole = self._section_asked(vector)
        if self._section_rows is None:
            self._section_rows = [
                np.array([ranking.position[c] for c in (*s.leads, *s.items)], dtype=np.intp) for s in self.listable
            ]
        return [
            float(ranking.scores[self._section_rows[i]].max())
            + self.OWN_TERMS_WEIGHT * len(asked & self.own_terms[i])
            + self.LEAD_WEIGHT * float(offers[i])
            + self.SECTION_ASKED_WEIGHT * float(whole[i])
            for i, s in enumerate(self.listable)
        ]

    def names_sections(self, question: str) -> int:
        """How many of the article's sections a question names by a word of their titles."""
        return len(self._titled_sections(question))

    def _titled_sections(self, text: str) -> list[int]:
        """The listable sections (their positions) that `text` names by a word of their own titles, in any form or
        by an everyday word for it ("what to eat" names nutrition, "treating" the treatment options)."""
        asked = prefixed_terms(nlp.expand(text))
        return [i for i, own in enumerate(self.own_terms) if own & asked]

    def _named_sections(self, question: str, *, whole: bool = False, listing: bool = False) -> list[Section]:
        """Sections that parts of a question name on their own ("causes ... and how do I stop it coming back");
        with `whole`, a one-part question too ("Summarize the FAQ section"); with `listing`, only parts that ask
        for a list or for what else there is ("..., and what other treatments speed up recovery?"). Parts are
        embedded on their own, not with the conversation the question's vector may carry."""
        texts = self.part_texts(question)
        if self.rank is None or not texts or (len(texts) < 2 and not whole):
            return []
        parts = self.parts(question) or list(zip(texts, embed_texts(self.embeddings, texts), strict=True))
        named = []
        for part, vector in parts:
            # A part asks for a list when it asks what else there is, or reads as a list question and names a
            # section by its title ("what should I do to treat it"); "hip is sore from running" names none.
            by_title = self._titled_sections(part)
            if listing and not (
                ASKS_ELSE.search(part)
                or (by_title and self.shape_probabilities(vector)["list"] >= self.LIST_MIN_PROBABILITY)
            ):
                continue
            scores = sorted(
                zip(self._section_scores(part, vector), range(len(self.listable)), strict=True), reverse=True
            )
            (best, index), (second, _) = scores[0], scores[1]
            titled = self.title_vectors @ vector
            # A word of one section's own title names it ("... about treating hip pain": the treatment options).
            if best >= self.PART_MIN and best - second >= self.PART_MARGIN:
                named.append(self.listable[index])
            elif len(by_title) == 1:
                named.append(self.listable[by_title[0]])
            elif titled.max() >= self.TITLE_MIN_SIMILARITY:
                named.append(self.listable[int(titled.argmax())])
        return named

    def _listing(
        self,
        sections: list[Section],
        confidence: float,
        extra: Sequence[str] = (),
        leave_out: frozenset[str] = frozenset(),
    ) -> Plan:
        """Each section's announcing lead-in and every item (but those in `leave_out`): the section that answers
        the whole question first, then those its parts name, in the article's order."""
        chosen = [*sections[:1], *(s for s in self.listable if s in sections[1:] and s != sections[0])]
        chunks = [c for s in chosen for c in (*s.leads[-1:], *s.items) if c not in leave_out] + list(extra)
        return Plan("list", tuple(s.title for s in chosen), tuple(dict.fromkeys(chunks)), confidence)
