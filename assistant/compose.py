"""The shape of an answer, decided from the question and the article's structure.

A question that asks for a list ("How do I relieve hip pain?") needs every
item of the section that answers it; a summary needs every section; a
definition needs the sentence that names the term; a specific question needs
its sentence and nothing that only frames the article. The extractive answer
used to be 1-4 sentences near the top chunk whatever the question asked, so
the article's own title question got its introduction.

Two decisions, kept apart:

* **What form the question asks for** (list, summary, definition or specific):
  a logistic regression over the question's embedding, trained at start-up on
  the example questions in ``data/answer_shapes.jsonl``.
* **Which part of the article answers it**: from the structure and the
  ranking, never from question wordings. A section scores its best-ranked
  chunk, the words the question shares with the section's title, how
  close the question is to the section's lead-in (which says what the
  section offers) and to the questions the whole section answers
  (``data/section_questions.jsonl``); a list is only given when no single item of that section
  stands out, else the question is specific after all. Parts of a question
  ("what causes it, and how do I stop it coming back?") that each name a
  section add it after the one that answers the whole question; a summary of
  named sections lists them. A FAQ pair ranked first is the article's own
  answer to the question and stays specific.

The ``Plan`` goes to every answerer: the extractive one renders it (bullets
quoted verbatim, each item its own citation), a generative one gets the plan's
chunks as its excerpts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import datafiles, nlp
from .classify import cached_arrays, cached_vectors, load_jsonl, training_key
from .corpus import CONCLUSION, INTRODUCTION
from .embeddings import embed_texts

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

    from .retrieval import Hit, Ranking
    from .store import ChunkVectors

Shape = Literal["specific", "list", "summary", "definition"]
SHAPES: tuple[Shape, ...] = ("specific", "list", "summary", "definition")


@dataclass(frozen=True)
class Section:
    """A section of the article as the composer sees it."""

    title: str
    leads: tuple[str, ...]
    """Framing paragraphs (lead-in, or the whole introduction/conclusion)."""
    items: tuple[str, ...]
    """Numbered items and FAQ pairs, in the article's order."""


@dataclass(frozen=True)
class Plan:
    """What the answer will be made of."""

    shape: Shape
    sections: tuple[str, ...] = ()
    """For a list: the sections listed; for a summary: every section."""
    chunks: tuple[str, ...] = ()
    """The chunks the answer quotes, in the order it quotes them."""
    confidence: float = 0.0
    focus: tuple[str, ...] = ()
    """For a specific answer: the listed item the question names ("how do I stay positive?"), quoted first."""
    related: tuple[str, ...] = ()
    """For a specific answer: the other half of its passage's pair (``Composer.related``), its key sentence after it."""


def load_examples() -> list[dict[str, Any]]:
    """Example questions per shape (package data, not code)."""
    return load_jsonl("answer_shapes.jsonl")


class Composer:
    """Decides the shape of each answer; one per Assistant."""

    LIST_MIN_PROBABILITY = 0.45
    """The classifier must give 'list' at least this (and more than any other shape)."""
    SUMMARY_MIN_SIMILARITY = 0.6
    """A summary is only given to questions this close to an example ("Summarize the article"); other
    texts the classifier calls 'summary' (a tweet to write, a paragraph to summarise) are not about it."""
    DEFINITION_MIN_SIMILARITY = 0.6
    """Likewise for definitions ("What is overstriding?"), which are answered even when scope doubts."""
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
    STANDOUT = 0.08
    """A list question whose top-ranked item beats its section's next item by this much is about that item..."""
    SURE_LIST = 0.8
    ASKED_MIN = 0.8
    """...unless the classifier is this sure it asks for a list ("how do I deal with the mental side of being
    sidelined?"), when the item must also be what one of its own questions asks, this nearly ("what low-impact
    activities can I do to stay fit while my hip heals?" is cross-training's)."""
    AHEAD, ASKED_SURE = 0.04, 0.9
    """An item half a standout ahead of its section's next, asked nearly as one of its own questions, is that
    question: "whats the first thing to do when my hip starts hurting" (0.07 ahead, 0.91) is rest and ice,
    whole; "my hip hurts after running, what should I do?" (0.005 ahead, though 0.95) keeps the list."""
    PART_MIN = 0.3
    PART_MARGIN = 0.1
    """A part of a question ("..., and when should I see a professional?", "prevention, treatment, nutrition")
    names a section when the section scores at least PART_MIN for that part alone and beats the next by
    PART_MARGIN: then a list or summary gives that section too (a part about nothing in particular,
    "what are my options", scores about the same for every section)."""
    TIE = 0.03
    """Sections that score this near the best are listed with it: "my hip hurts when I run, what should I do?"
    scores the causes 0.7935 and the treatment options 0.7903; either alone is a guess at what was asked. 0.03
    rather than 0.01 since the section questions joined the score: on the dev sets only broad dev 6 moved (+1.3
    points, "build from 40 to 60 miles a week for an ultra without ending up with hip pain" gets prevention too),
    at 0.05 its answers grew by 8 words for one more point."""
    TITLE_MIN_SIMILARITY = 0.6
    """A part this close to a section's title names it outright ("the FAQ section", "prevention")."""
    MAX_PARTS = 6

    def __init__(
        self,
        documents: dict[str, Document],
        embeddings: Embeddings,
        rank: Callable[[str, np.ndarray], Ranking] | None = None,
        *,
        questions: ChunkVectors | None = None,
        cache_dir: Path | None = None,
        model_key: str = "",
    ) -> None:
        self.cache_dir = cache_dir
        """Where the example questions' embeddings are cached (``classify.cached_vectors``), keyed by model."""
        self.model_key = model_key
        self.rank = rank
        """``rank(query, vector)`` -> every chunk's fused score (the Assistant's ``Ranker.rank_all``)."""
        self.questions = questions
        """Questions each chunk answers, embedded (the FAQ's and ``data/passage_questions.jsonl``)."""
        self._question_rows: dict[str, list[int]] = {}
        for row, chunk_id in enumerate(questions.ids if questions else []):
            self._question_rows.setdefault(chunk_id, []).append(row)
        self.documents = documents
        self.embeddings = embeddings
        self.sections = _sections(documents)
        self.listable = [s for s in self.sections if len(s.items) >= 2]
        self.own_terms = _own_terms(self.listable, documents)
        self.item_terms = {
            c: set(nlp.stems(documents[c].metadata.get("title", ""))) for s in self.listable for c in s.items
        }
        """Each listed item's title words (stemmed): a question that holds all of one item's asks about that item."""
        self._title_slack = {
            c: int(len(terms) >= 3 and documents[c].metadata.get("kind") == "item")
            for c, terms in self.item_terms.items()
        }
        """How many title words (never the rarest) a question may leave out and still name the item."""
        title_uses = Counter(w for terms in self.item_terms.values() for w in terms)
        self._items_by_rarest: dict[str, list[tuple[Section, str]]] = {}
        """Listed items by the rarest word of their title: a question names an item whole only if it holds that."""
        for section in self.listable:
            for c in section.items:
                if self.item_terms[c]:
                    rarest = min(self.item_terms[c], key=lambda w: (title_uses[w], w))
                    self._items_by_rarest.setdefault(rarest, []).append((section, c))
        self._own_title_words = frozenset(w for w, n in title_uses.items() if n == 1)
        """Title words only one item's title uses ("injections", "surgery")."""
        self._section_rows: list[np.ndarray] | None = None
        """Each listable section's chunks as rows of a ``Ranking`` (set on the first one)."""
        self.topic_terms = {w for s in self.sections for w in nlp.stems(s.title)} | {
            w for terms in self.item_terms.values() for w in terms
        }
        """What the article's titles name ("hip", "pain", "causes", "nutrition"): what a question is about."""
        in_titles = Counter(w for s in self.sections for w in set(nlp.stems(s.title)))
        self.section_terms = self.topic_terms - {w for w, n in in_titles.items() if n >= 2}
        """Topic words that point at some sections only ("causes", "nutrition", "faqs"; not "hip" or "pain")."""
        ordered = sorted(documents.values(), key=lambda d: (d.metadata["source"], d.metadata["start"]))
        self.words_of = {d.metadata["chunk_id"]: frozenset(nlp.stems(d.page_content)) for d in ordered}
        """Every chunk's words (stemmed), stemmed once here rather than at every question."""
        self.chunk_stems = {c: w for c, w in self.words_of.items() if documents[c].metadata.get("role") != "framing"}
        """Each passage's words (stemmed), in the article's order; framing passages name no topic of their own."""
        self.vocabulary = frozenset(w for words in self.chunk_stems.values() for w in words)
        """Every word the passages use: a topic question names only these (or everyday words for them)."""
        self.section_title_stems = frozenset(w for s in self.sections for w in nlp.stems(s.title))
        self._section_prefixes = _prefixes(self.section_terms)
        self._title_prefixes = _prefixes(self.section_title_stems)
        """The same, cut to five letters (``_prefixes``), once: a corpus of 10,000 passages has as many titles."""
        uses = Counter(w for words in self.chunk_stems.values() for w in words)
        self.subject_stems = frozenset(w for w, n in uses.items() if n * 3 > len(self.chunk_stems))
        """Words a third of the passages use ("hip", "pain", "running"): the article's subject, no topic in it."""
        held = Counter(w for words in self.words_of.values() for w in words)
        self.rarity = {w: math.log(len(documents) / n) for w, n in held.items()}
        """How few of all the chunks use each word (inverse document frequency, framing passages counted: "keep
        your hips happy" makes "keep" commoner than "band"): a definition's term is the rare word."""
        subject = self.subject_stems
        by_word: dict[str, list[str]] = {}
        for c, terms in self.item_terms.items():
            for w in terms - subject:
                if title_uses[w] == 2:
                    by_word.setdefault(w, []).append(c)
        pairs = list(dict.fromkeys(tuple(pair) for pair in by_word.values() if len(pair) == 2))
        between = Counter(frozenset(documents[c].metadata["section"] for c in pair) for pair in pairs)
        self.twins: dict[str, tuple[str, ...]] = {}
        """Items of two sections that pair up item by item, named alike: a cause and the strategy that prevents it
        ("Footwear" and "Choose the Right Footwear", "Poor Running Form" and "Optimize Your Running Form"). Two
        sections pair up when two or more of their items' titles share a word no other title uses; one shared
        word alone ("anti-inflammatory" medications and foods) is a coincidence of names."""
        self._twin_words: dict[str, tuple[str, str]] = {}
        """The title word each pair of twins shares ("form", "footwear"): a question that uses it names the pair."""
        for word, pair in by_word.items():
            if len(pair) != 2:
                continue
            a, b = pair
            sections = frozenset(documents[c].metadata["section"] for c in (a, b))
            if len(sections) == 2 and between[sections] >= 2:
                self._twin_words[word] = (a, b)
                if b not in self.twins.get(a, ()):
                    self.twins[a] = (*self.twins.get(a, ()), b)
                    self.twins[b] = (*self.twins.get(b, ()), a)
        self._section_of = {c: s for s in self.listable for c in s.items}

    @cached_property
    def examples(self) -> tuple[np.ndarray, np.ndarray]:
        """The example questions' vectors and shapes, embedded on first use."""
        examples = load_examples()
        texts = [e["text"] for e in examples]
        vectors = cached_vectors(self.embeddings, texts, self.cache_dir, self.model_key, "answer-shapes")
        return vectors, np.array([e["shape"] for e in examples])

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

    SHAPE_C = 4.0

    @cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The shape classifier's weights: fitted once (scikit-learn) and cached with the example vectors."""
        vectors, shapes = self.examples
        texts = [e["text"] for e in load_examples()]

        def fit() -> dict[str, np.ndarray]:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=self.SHAPE_C, max_iter=2000).fit(vectors, shapes)
            return {"coef": model.coef_, "intercept": model.intercept_, "classes": model.classes_.astype(str)}

        key = training_key(texts, list(shapes), self.model_key, self.SHAPE_C)
        arrays = cached_arrays(self.cache_dir, "answer-shape-classifier", key, fit)
        coef, intercept = arrays["coef"].astype(np.float32), arrays["intercept"].astype(np.float32)
        return coef, intercept, [str(c) for c in arrays["classes"]]

    def nearest_example(self, vector: np.ndarray, shape: Shape) -> float:
        """Similarity to the closest example of `shape`: the classifier picks a shape for any text,
        this says whether the question is like those examples at all."""
        vectors, shapes = self.examples
        return float((vectors[shapes == shape] @ vector).max())

    RELATED_MARGIN = 0.2
    """A twin (``twins``) ranked among the answer's chunks and this near the passage it pairs with is the other
    half of the answer: "do I really need to warm up?" gets the warm-up advice and what skipping it risks."""

    def related(self, chunk_id: str, hits: Sequence[Hit], question: str = "") -> tuple[str, ...]:
        """The twins of `chunk_id` among `hits` that score within ``RELATED_MARGIN`` of it, or that the question
        names by the word the two share ("what running form mistakes cause it, and what should I do instead?").
        Without a twin, the best-ranked FAQ pair within that margin that speaks of the same thing in a word the
        question uses (``faq_companions``): "what stretches help?" gets the flexibility advice and the stretches
        the FAQ names. One other passage at most; a FAQ answer that leads is the article's own, whole answer."""
        scores = {h.chunk_id: h.score for h in hits}
        if chunk_id not in scores:
            return ()
        floor = scores[chunk_id] - self.RELATED_MARGIN
        asked = set(nlp.stems(nlp.expand(question)))
        named = {c for pair in self._pairs_named(asked) for c in pair}
        twins = tuple(t for t in self.twins.get(chunk_id, ()) if scores.get(t, -math.inf) >= floor or t in named)
        if twins or self.documents[chunk_id].metadata.get("kind") == "faq":
            return twins
        # A FAQ answer that opens "Yes, ..." answers its own question; beside another yes-or-no question ("should I
        # stretch before running?") it would read as the answer to that one.
        yes_no = bool(_YES_NO_QUESTION.match(question.strip()))
        companions = [
            c
            for c, words in self.faq_companions.get(chunk_id, {}).items()
            if words & asked
            and scores.get(c, -math.inf) >= floor
            and not (yes_no and _ANSWERS_YES_NO.search(self.documents[c].page_content))
        ]
        return (max(companions, key=lambda c: scores[c]),) if companions else ()

    @cached_property
    def _faq_words(self) -> dict[str, frozenset[str]]:
        """Each FAQ question's words (stemmed)."""
        return {
            c: frozenset(nlp.stems(d.metadata.get("title", "")))
            for c, d in self.documents.items()
            if d.metadata.get("kind") == "faq"
        }

    @cached_property
    def faq_companions(self) -> dict[str, dict[str, frozenset[str]]]:
        """For each listed item, the FAQ pairs whose question asks about what the item speaks of, with the words they
        share: "Improve Flexibility" says to stretch regularly, the FAQ's "Are there specific stretches ...?" names
        the stretches; a runner asking about stretches wants both. The words are the FAQ question's own, but the
        article's subject, words too general to name a topic and words several FAQ questions use."""
        out: dict[str, dict[str, frozenset[str]]] = {}
        asks = self._faq_words
        # What several FAQ questions say ("from running") names none of them.
        shared_by_many = {w for w, n in Counter(w for words in asks.values() for w in words).items() if n > 1}
        for faq, words in asks.items():
            keys = words - self.subject_stems - _GENERIC_STEMS - shared_by_many
            for item in self.item_terms:
                shared = keys & self.chunk_stems.get(item, frozenset())
                if shared and self.documents[item].metadata.get("kind") != "faq":
                    out.setdefault(item, {})[faq] = shared
        return out

    def shape_probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """The classifier's softmax, computed directly: sklearn's per-call checks cost more than the maths."""
        coef, intercept, classes = self._weights
        logits = coef @ vector + intercept
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return {c: float(p) for c, p in zip(classes, probs, strict=True)}

    def plan(self, question: str, vector: np.ndarray, hits: list[Hit]) -> Plan:
        if not vector.size or not hits:
            return Plan("specific")
        probs = self.shape_probabilities(vector)
        if hits[0].doc.metadata.get("kind") == "faq" and probs["summary"] < max(probs.values()):
            # The article's own answer to this question: a FAQ pair ranked first is the answer.
            return Plan("specific", chunks=tuple(h.chunk_id for h in hits), confidence=probs["specific"])
        shape = max(probs, key=probs.__getitem__)
        stems = frozenset(nlp.stems(question))
        titled = [
            c for _, c in self._items_named(set(stems)) if len(self.item_terms[c]) > 1 and self.item_terms[c] <= stems
        ]
        if len(titled) == 1 and shape != "list":
            # The whole title of one item ("tell me more about Improve Flexibility", "explain Poor Running Form"):
            # that item, whatever else the question's words ask for. A one-word title is a word, not a title
            # ("a cortisone shot or even surgery" asks about both).
            return Plan("specific", focus=(titled[0],), confidence=probs["specific"])
        topic = self._topic(question, stems)
        if topic:
            return topic
        if self.asks_summary(stems, vector, probs):
            # "Summarize the treatment part": the sections it names, as lists, instead of the whole article.
            names = self._section_prefixes & _prefixes(stems)
            named = self._named_sections(question, whole=True) if names else []
            if named and len(named) < len(self.listable):
                return self._listing([s for s in self.listable if s in named], probs["summary"])
            return self._summary(probs["summary"])
        if shape == "definition" and self.nearest_example(vector, "definition") >= self.DEFINITION_MIN_SIMILARITY:
            definition = self._definition(stems, hits)
            if definition:
                return definition
        if shape == "list" and probs["list"] >= self.LIST_MIN_PROBABILITY:
            listed = self._list(question, vector, probs["list"])
            if listed:
                return listed
        others = self._alternatives(question, hits, probs["list"])
        if others:
            return others
        return Plan("specific", chunks=tuple(h.chunk_id for h in hits), confidence=probs.get("specific", 0.0))

    def asks_summary(self, stems: frozenset[str], vector: np.ndarray, probs: dict[str, float] | None = None) -> bool:
        """Does the question ask for a summary (its words, or the classifier and a near example)?"""
        probs = probs if probs is not None else self.shape_probabilities(vector)
        shape = max(probs, key=probs.__getitem__)
        return self.asks_for_summary(stems) or (
            shape == "summary" and self.nearest_example(vector, "summary") >= self.SUMMARY_MIN_SIMILARITY
        )

    def summarizes_article(self, question: str, vector: np.ndarray) -> bool:
        """A summary of the article, however it is asked ("Summarize the article in one paragraph for my running
        club newsletter" reads as a writing task); a summary of text that names neither the article nor its subject
        ("summarise this for me: The Federal Reserve ...") is another task."""
        stems = frozenset(nlp.stems(question))
        return bool(stems & (self.subject_stems | {"articl"})) and self.asks_summary(stems, vector)

    @cached_property
    def summary_words(self) -> tuple[frozenset[str], frozenset[str]]:
        """Words of the summary examples that name no topic of the article, and those of them that no other
        shape's examples use ("tl;dr", "takeaways", "gist", "overview")."""
        by_shape: dict[str, set[str]] = {}
        for example in load_examples():
            by_shape.setdefault(example["shape"], set()).update(nlp.stems(example["text"]))
        summary = by_shape.get("summary", set()) - self.topic_terms
        others = set().union(*(words for shape, words in by_shape.items() if shape != "summary"))
        return frozenset(summary), frozenset(summary - others)

    def asks_for_summary(self, stems: frozenset[str]) -> bool:
        """Does the question (its `stems`), beside the article's own topic words, only ask for a summary? "tl;dr
        of the hip pain article?", "key takeaways from the article on hip pain from running": the topic words pull
        the question's embedding towards the article's passages and away from the summary examples."""
        # "treating" names "Treatment" too; "dealing with hip pain" is the article's whole subject.
        asked = {w for w in stems if not self._is_topic_word(w) and w not in _GENERIC_STEMS}
        words, distinctive = self.summary_words
        return bool(asked & distinctive) and asked <= words

    def _is_topic_word(self, stem: str) -> bool:
        """Is `stem` a form of one of the article's topic words: "treat" of "treatment", but "inflation" is not
        "inflammation" though their first five letters agree (``_prefixes``)."""
        return any(
            t.startswith(stem) or stem.startswith(t) or stem[:6] == t[:6]
            for t in self._topic_by_prefix.get(stem[:5], ())
        )

    @cached_property
    def _topic_by_prefix(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for t in self.topic_terms:
            out[t[:5]] = (*out.get(t[:5], ()), t)
        return out

    MAX_TOPIC_CHUNKS = 8
    """A topic more of the article's passages name than this is its general subject ("hip", "pain"), not one."""

    def _topic(self, question: str, stems: frozenset[str]) -> Plan | None:
        """Everything the article says on one topic, when that is all the question asks ("what does the article say
        about shoes?", "list all the advice on footwear"): every passage that names it, across sections, in the
        article's order; one passage is a specific answer."""
        about = {nlp.stem(w) for w in nlp.words(question)} & _ABOUT_STEMS  # "everything" is a stop word
        topic = stems - _ABOUT_STEMS - _FORM_STEMS - self.subject_stems
        if not about or not topic or not topic <= self.vocabulary | _EVERYDAY_STEMS:
            return None  # only the article's own words around the asking ones: not "in a nutshell, how do I ..."
        if _prefixes(topic) & self._title_prefixes:
            return None  # "what does it say about treatment?": the section, as a list, answers that
        named = topic | (set(nlp.stems(nlp.expand(question))) - stems)
        # A topic of several words is the passages that hold them all ("foam rolling" is not "inward rolling of
        # the foot"); words that no passage holds together are several topics ("shoes and footwear").
        chunks = [c for c, words in self.chunk_stems.items() if topic <= words] if len(topic) > 1 else []
        chunks = chunks or [c for c, words in self.chunk_stems.items() if words & named]
        if not chunks or len(chunks) > self.MAX_TOPIC_CHUNKS:
            return None
        if len(chunks) == 1:
            return Plan("specific", focus=tuple(chunks))
        sections = tuple(dict.fromkeys(self.documents[c].metadata["section"] for c in chunks))
        return Plan("list", sections, tuple(chunks))

    def _summary(self, confidence: float) -> Plan:
        chosen = [s for s in self.sections if s.title != INTRODUCTION]
        chunks = [self.summary_chunk(s) for s in chosen]
        return Plan("summary", tuple(s.title for s in chosen), tuple(chunks), confidence)

    def summary_chunk(self, section: Section) -> str:
        """The chunk a summary quotes for a section: its lead-in, else its first item."""
        return (section.leads or section.items)[0]

    def _definition(self, stems: frozenset[str], hits: list[Hit]) -> Plan | None:
        """The content chunk that names the question's rarest terms, best-ranked among equals: in "whats the IT
        band thing people keep mentioning?" the term is "band", not "keep", which the mindset advice also uses."""
        terms = stems - _FORM_STEMS
        named = self._items_named(set(terms))
        if len(named) == 1:
            # The term is an item's title ("what does cross-training mean for an injured runner?"): that item,
            # however rare the question's other words ("injured runner" is the support group's).
            return Plan("definition", chunks=(named[0][1],))
        best: tuple[float, Hit] | None = None
        for hit in hits:
            if hit.doc.metadata.get("role") == "framing":
                continue
            weight = sum(self.rarity.get(t, 0.0) for t in terms & self.words_of.get(hit.chunk_id, frozenset()))
            if weight > 0 and (best is None or weight > best[0]):
                best = (weight, hit)
        return Plan("definition", chunks=(best[1].chunk_id,)) if best else None

    def _list(self, question: str, vector: np.ndarray, confidence: float) -> Plan | None:
        """The section of the best-ranked listed chunk, unless the question names one item or one of the
        section's items stands out."""
        if not self.listable or self.rank is None:
            return None
        ranking = self.rank(question, vector)
        items = self._named_items(question, ranking)
        if items:
            # "What treatments are there, and how do I stay positive while I recover?": the list one part asks
            # for, then the item the other part names.
            lists = [s for s in self._named_sections(question) if not set(items) & {*s.leads, *s.items}]
            if lists:
                return self._listing(lists, confidence, extra=items)
            return Plan("specific", focus=items, confidence=confidence)
        scores = self._section_scores(question, vector, ranking)
        section = self.listable[int(np.argmax(scores))]
        top = max(scores)
        tied = [s for s, score in zip(self.listable, scores, strict=True) if top - score <= self.TIE and s != section]
        in_section = (*section.leads, *section.items)
        # The best-scored of the section's chunks, the earliest among equals (as the ranking orders them).
        first = min(in_section, key=lambda c: (-ranking.score(c), ranking.position[c]))
        others = sorted((ranking.score(c) for c in section.items if c != first), reverse=True)
        lead = ranking.score(first) - others[0] if first in section.items else 0.0
        asked = self._asked(vector, first) if lead >= self.AHEAD else 0.0
        if asked >= self.ASKED_SURE:
            return Plan("specific", focus=(first,), confidence=confidence)
        if lead >= self.STANDOUT and (confidence < self.SURE_LIST or asked >= self.ASKED_MIN):
            return None
        named = self._named_sections(question)
        ruled_out = self.ruled_out_items(question)
        faqs = [
            d.metadata["chunk_id"]
            for d in ranking.top(2)
            if d.metadata.get("kind") == "faq" and d.metadata["section"] != section.title
        ]
        return self._listing([section, *tied, *named], confidence, extra=faqs, leave_out=ruled_out)

    def listing_of(self, chunk_id: str) -> Plan:
        """The list of the section that holds `chunk_id` ("when should I see a doctor?": every criterion)."""
        section = next(s for s in self.listable if chunk_id in (*s.leads, *s.items))
        return self._listing([section], 1.0)

    def leading(self, plan: Plan, chunk_id: str) -> Plan:
        """A list that opens with `chunk_id` (the criterion a message reports): then the rest of its section's items
        when the plan lists that section, then the plan's other lists."""
        section = next(s for s in self.sections if chunk_id in (*s.leads, *s.items))
        if section.title not in plan.sections:
            return replace(plan, sections=(section.title, *plan.sections), chunks=(chunk_id, *plan.chunks))
        own = [c for c in section.items if c != chunk_id and c in plan.chunks]
        rest = [c for c in plan.chunks if c not in (*section.leads, *section.items)]
        titles = (section.title, *(t for t in plan.sections if t != section.title))
        return replace(plan, sections=titles, chunks=(chunk_id, *own, *rest))

    def _asked(self, vector: np.ndarray, chunk_id: str) -> float:
        """How nearly the question is one the chunk answers (its questions in ``data/passage_questions.jsonl``)."""
        rows = self._question_rows.get(chunk_id)
        if self.questions is None or not rows:
            return 0.0
        return float((self.questions.vectors[rows] @ vector).max())

    def _named_items(self, question: str, ranking: Ranking) -> tuple[str, ...]:
        """The listed item whose title the question holds, if it also ranks first in its section: "how can I
        optimize my running form?", "how do I stay positive while injured?" ask about that item. A numbered item's
        title of three words or more may miss one besides its rarest: "how do I strengthen my hips for running?"
        names "Strengthen Your Hip Muscles". A FAQ question may not ("the best way to prevent hip pain" is not
        "What are the best shoes for preventing hip pain?"). "Treat it without pills, injections or surgery" names
        surgery only to rule it out, and "what can I do at home, dont really want to pay for physio" names
        physical therapy only to rule it out, though it ranks first: what a question rules out names nothing."""
        if set(nlp.words(question)) & _ALL_WORDS:
            return ()  # "list every treatment, from rest all the way to surgery": the items are examples
        asked = self._kept_stems(question)
        named = self._items_named(asked)
        if not named:
            # The word a pair of twins shares names both ("what running form mistakes cause it, and what should I
            # do instead?"), the better ranked first.
            pairs = self._pairs_named(asked)
            if len(pairs) != 1:
                return ()
            pair = sorted(pairs.pop(), key=ranking.score, reverse=True)
            return tuple(pair) if pair[0] == max(self._section_of[pair[0]].items, key=ranking.score) else ()
        if len(named) != 1:
            return ()
        section, item = named[0]
        best = max(section.items, key=ranking.score)
        return (item,) if best == item else ()

    @staticmethod
    def _kept_stems(question: str) -> set[str]:
        """The question's words (stemmed, everyday words read as the article's) but those it rules out."""
        return set(nlp.stems(nlp.expand(nlp.ruled_out(question))))

    def _pairs_named(self, asked: set[str]) -> set[tuple[str, str]]:
        """The twin pairs whose shared title word the stems `asked` hold."""
        return {self._twin_words[w] for w in asked if w in self._twin_words}

    def _items_named(self, asked: set[str]) -> list[tuple[Section, str]]:
        """The listed items whose titles the stems `asked` hold (all words, or all but one of a long one's)."""
        candidates = [pair for w in asked for pair in self._items_by_rarest.get(w, ())]
        return [(s, c) for s, c in candidates if len(self.item_terms[c] - asked) <= self._title_slack[c]]

    def _alternatives(self, question: str, hits: list[Hit], confidence: float) -> Plan | None:
        """What else there is, when a specific answer would quote the very item the question rules out and asks
        to replace ("what can I do instead of physio?", "no surgery, what else is there?"): the other items of its
        section. Ruling out alone asks no such thing: "can I run without warming up?" asks about warming up."""
        top = next((h.chunk_id for h in hits if h.doc.metadata.get("role") != "framing"), None)
        out = self.ruled_out_items(question) if top is not None and _ASKS_ELSE.search(question) else frozenset()
        if top not in out:
            return None
        # What it asks for instead may name its own section: "what can I eat instead of taking ibuprofen?"
        kept = self._kept_stems(question) - self.subject_stems
        named = [s for s in self.listable if kept & set(nlp.stems(s.title)) and top not in s.items]
        sections = named or [s for s in self.listable if top in s.items]
        return self._listing(sections, confidence, leave_out=out)

    def names_item(self, question: str, unknown: Sequence[str] = ()) -> bool:
        """Does the question name one of the article's listed items by its title, or the word a pair of twins
        shares ("how do I improve my running form?", "is my form to blame?")? Beside words the article never uses
        (`unknown`) it must also name the article's subject: "role-play as my physio and ask me intake questions",
        "summarise this: ... cooling inflation" use the words for something else."""
        asked = self._kept_stems(question)
        if unknown and not asked & self.subject_stems:
            return False
        return bool(self._items_named(asked) or self._pairs_named(asked))

    def asks_instead(self, question: str) -> bool:
        """Does the question rule out an item of the article and ask for something else?"""
        return bool(_ASKS_ELSE.search(question)) and bool(self.ruled_out_items(question))

    def ruled_out_items(self, question: str) -> frozenset[str]:
        """The items a question names only to rule them out: "how can I treat it without surgery?" lists the
        treatment options but surgery."""
        kept = nlp.ruled_out(question)
        if kept == question:
            return frozenset()
        asked = set(nlp.stems(nlp.expand(question))) - set(nlp.stems(nlp.expand(kept)))
        # One word of a title no other title uses is enough here: "without injections" rules out the
        # corticosteroid injections.
        unique = asked & self._own_title_words - self.subject_stems
        return frozenset(c for _, c in self._items_named(asked)) | {
            c for c, terms in self.item_terms.items() if terms & unique
        }

    def _section_scores(self, text: str, vector: np.ndarray, ranking: Ranking | None = None) -> list[float]:
        """Per listable section: its best-ranked chunk for `text` (`ranking`, when the caller ranked already),
        the words `text` shares with its title, and its lead-in's similarity."""
        assert self.rank is not None
        if ranking is None:
            ranking = self.rank(text, vector)
        asked = _terms(nlp.expand(text))
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
        asked = _terms(nlp.expand(text))
        return [i for i, own in enumerate(self.own_terms) if own & asked]

    def _named_sections(self, question: str, *, whole: bool = False) -> list[Section]:
        """Sections that parts of a question name on their own ("causes ... and how do I stop it coming back");
        with `whole`, a one-part question too ("Summarize the FAQ section"). Parts are embedded on their own,
        not with the conversation the question's vector may carry."""
        parts = [p.strip() for p in _PART_BREAK.split(question) if p and p.strip()]
        if (len(parts) < 2 and not whole) or self.rank is None:
            return []
        parts = parts[: self.MAX_PARTS]
        named = []
        for part, vector in zip(parts, embed_texts(self.embeddings, parts), strict=True):
            scores = sorted(
                zip(self._section_scores(part, vector), range(len(self.listable)), strict=True), reverse=True
            )
            (best, index), (second, _) = scores[0], scores[1]
            titled = self.title_vectors @ vector
            # A word of one section's own title names it ("... about treating hip pain": the treatment options).
            by_title = self._titled_sections(part)
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


# Where a question's parts meet: a question mark, a colon, a semicolon, a comma, "and", a spaced dash.
_PART_BREAK = re.compile(r"\?\s*|;\s*|:\s*|,\s*|\s+and\s+|\s+[-\u2013\u2014]+\s+")

# A question that asks for something besides what it names ("what else", "instead", "any alternatives").
_ASKS_ELSE = re.compile(r"\b(?:else|instead|alternatives?|other (?:options|things|ways)|besides|rather than)\b", re.I)

# A question answered yes or no ("should I stretch before running?"), and a FAQ answer that opens with one.
_YES_NO_QUESTION = re.compile(
    r"(?i)(?:(?:hi|hey|hello|ok|so)\W+)*(?:should|shall|can|could|is|are|do|does|did|will|would|am|was|were|have|has)\b"
)
_ANSWERS_YES_NO = re.compile(r"\bA:\s*(?:yes|no)\b", re.I)
# Words too general to name a topic ("deal with", "handle"), from data/generic_words.txt.
_GENERIC_STEMS = frozenset(nlp.stem(w) for w in datafiles.words("generic_words.txt"))
# Words that ask what the article says on a topic, not which topic (data/topic_words.txt).
_ABOUT_STEMS = frozenset(nlp.stem(w) for w in datafiles.words("topic_words.txt"))
# Everyday words the article says its own way ("shoe inserts": orthotics), from data/synonyms.tsv.
_EVERYDAY_STEMS = frozenset(w for everyday, _ in datafiles.rows("synonyms.tsv") for w in nlp.stems(everyday))

# Words that ask for every item of a list (data/all_words.txt).
_ALL_WORDS = frozenset(datafiles.words("all_words.txt"))

# Words that only give a definition question its form ("what is ... mean").
_FORM_STEMS = frozenset(nlp.stems("what whats is are does mean meaning define definition explain term called"))


def _prefixes(stems: Collection[str]) -> set[str]:
    """Stems cut to five letters, so "treat" and "treatment" meet."""
    return {stem[:5] for stem in stems}


def _terms(text: str) -> set[str]:
    """Word prefixes, so "treated", "treating" and "treatment" meet."""
    return _prefixes(nlp.stems(text))


def _own_terms(sections: list[Section], documents: dict[str, Document]) -> list[set[str]]:
    """Each section's words in its title, less those most sections share ("hip", "pain"), general words
    (``data/generic_words.txt``) and the article's own subject, named by its file ("hip-pain-from-running":
    "running" says nothing of a section)."""
    bodies = [_body_terms(s, documents) for s in sections]
    # A title's figure of speech ("Prevention: The Best Medicine") is not what the section holds: a title word
    # that another section's text uses and this one's does not ("medicine": the medications) is dropped.
    terms = [
        {t for t in _terms(s.title) if t in bodies[i] or not any(t in b for b in bodies)}
        for i, s in enumerate(sections)
    ]
    shared = {t for t in set().union(*terms) if sum(t in ts for ts in terms) * 2 >= len(sections)} if terms else set()
    subject = set().union(*(_terms(Path(d.metadata["source"]).stem.replace("-", " ")) for d in documents.values()))
    # "Treatment Options", "The Role of Nutrition": words any question may use for its form ("what are my options
    # for preventing it?") are no title's own.
    generic = _prefixes(_GENERIC_STEMS)
    return [ts - shared - subject - generic for ts in terms]


def _body_terms(section: Section, documents: dict[str, Document]) -> set[str]:
    """Word prefixes of a section's own text."""
    return set().union(*(_terms(documents[c].page_content) for c in (*section.leads, *section.items)))


def _sections(documents: dict[str, Document]) -> list[Section]:
    """Sections in the article's order with their framing and listed chunks."""
    ordered = sorted(documents.values(), key=lambda d: (d.metadata["source"], d.metadata["start"]))
    by_title: dict[str, tuple[list[str], list[str]]] = {}
    for doc in ordered:
        meta = doc.metadata
        leads, items = by_title.setdefault(meta["section"], ([], []))
        (leads if meta.get("role") == "framing" else items).append(meta["chunk_id"])
    sections = [Section(t, tuple(leads), tuple(items)) for t, (leads, items) in by_title.items()]
    # The conclusion closes a summary whatever its place in the file.
    return [s for s in sections if s.title != CONCLUSION] + [s for s in sections if s.title == CONCLUSION]
