"""``Composer``: the plan of each answer, from the question's shape and the article's structure (see the package)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import nlp
from ..corpus import INTRODUCTION
from .items import ItemReader
from .sections import SectionReader
from .structure import Plan, Section, article_sections, own_title_terms, prefixes
from .words import (
    ABOUT_STEMS,
    ASKS_ELSE,
    ASKS_PART,
    EVERYDAY_STEMS,
    EVERYTHING,
    FORM_STEMS,
    GENERIC_STEMS,
    YES_NO_QUESTION,
)

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

    from ..retrieval import Hit, Ranking
    from ..store import ChunkVectors


class Composer(SectionReader, ItemReader):
    """Decides the shape of each answer; one per Assistant."""

    DEFINITION_MIN_SIMILARITY = 0.6
    """Like ``SUMMARY_MIN_SIMILARITY``, for definitions ("What is overstriding?"), which are answered even when
    scope doubts."""

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

    PART_ASKED_MIN, PART_ASKED_MARGIN = 0.6, 0.1
    """A part of a question asks one passage's own question when it is this near that passage's questions and
    this much nearer than any other passage's: "how long should I rest?" on its own, without the hip that the
    rest of the question names, is 0.63 from the FAQ's "How long should I rest if I have hip pain from running?"
    and 0.43 from any other passage's."""

    FAQ_MARGIN = 0.03
    """How much nearer a yes-or-no question must be to one FAQ pair's questions than to those of any passage it
    does not ask as nearly, for that pair to answer it (``_faq_asked``)."""

    TIE = 0.03
    """Sections that score this near the best are listed with it: "my hip hurts when I run, what should I do?"
    scores the causes 0.7935 and the treatment options 0.7903; either alone is a guess at what was asked. 0.03
    rather than 0.01 since the section questions joined the score: on the dev sets only broad dev 6 moved (+1.3
    points, "build from 40 to 60 miles a week for an ultra without ending up with hip pain" gets prevention too),
    at 0.05 its answers grew by 8 words for one more point."""

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
        self.sections = article_sections(documents)
        self.listable = [s for s in self.sections if len(s.items) >= 2]
        self.own_terms = own_title_terms(self.listable, documents)
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
        self.section_terms = self.topic_terms - {w for w, n in in_titles.items() if n >= 2} - GENERIC_STEMS
        """Topic words that point at some sections only ("causes", "nutrition", "faqs"; not "hip" or "pain", nor a word
        too general to name a topic: "long" of "How long should I rest ...?" in "too long didnt read")."""
        ordered = sorted(documents.values(), key=lambda d: (d.metadata["source"], d.metadata["start"]))
        self.words_of = {d.metadata["chunk_id"]: frozenset(nlp.stems(d.page_content)) for d in ordered}
        """Every chunk's words (stemmed), stemmed once here rather than at every question."""
        self.chunk_stems = {c: w for c, w in self.words_of.items() if documents[c].metadata.get("role") != "framing"}
        """Each passage's words (stemmed), in the article's order; framing passages name no topic of their own."""
        self.vocabulary = frozenset(w for words in self.chunk_stems.values() for w in words)
        """Every word the passages use: a topic question names only these (or everyday words for them)."""
        self.section_title_stems = frozenset(w for s in self.sections for w in nlp.stems(s.title))
        self._section_prefixes = prefixes(self.section_terms)
        self._title_prefixes = prefixes(self.section_title_stems)
        """The same, cut to five letters (``structure.prefixes``), once: a corpus of 10,000 passages has as many titles."""
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

    def plan(self, question: str, vector: np.ndarray, hits: list[Hit]) -> Plan:
        if not vector.size or not hits:
            return Plan("specific")
        probs = self.shape_probabilities(vector)
        lead = next((h for h in hits if h.doc.metadata.get("role") != "framing"), hits[0])
        # A yes-or-no question nearly one of a FAQ's own is answered by that pair, whatever leads the ranking ("can i
        # just run through hip pain or is that dumb", 0.84 from "can I just push through hip pain and keep running?",
        # is pulled towards the treatment list by its words "hip pain").
        not_summary = probs["summary"] < max(probs.values())
        faqs = self._faq_asked(question, vector) if not_summary else ()
        if faqs or (lead.doc.metadata.get("kind") == "faq" and not_summary):
            answer = faqs[0] if faqs else lead.chunk_id
            # A FAQ pair answers one part, and the question's other parts ask for lists ("Is it okay to keep running
            # through hip pain, and if not, what should I do to treat it?"): the FAQ's answer, then each list.
            lists = [s for s in self._named_sections(question, listing=True) if answer not in s.items]
            if lists:
                listing = self._listing(lists, probs["list"])
                return replace(listing, chunks=(answer, *listing.chunks))
            # ... or another of the article's questions ("What stretches help a sore hip, and how long should I
            # stay off running?"): both answers.
            asked = tuple(dict.fromkeys((*faqs[1:], *self._asked_by_parts(question, answer))))
            if asked or faqs:
                return Plan("specific", focus=(answer, *asked), confidence=probs["specific"])
        if hits[0].doc.metadata.get("kind") == "faq" and not_summary:
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
        if self.asks_summary(stems, vector, probs) or self.opens_with_summary(question):
            # "Summarize the treatment part": the sections it names, as lists, instead of the whole article.
            names = self._section_prefixes & prefixes(stems)
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
        # A specific answer leads with its best passage; a part that asks another passage's own question adds it
        # ("Could my trainers be the reason my hip hurts? And what should I look for when I buy a new pair?").
        asked = self._asked_by_parts(question, lead.chunk_id)
        if asked:
            return Plan("specific", focus=(lead.chunk_id, *asked), confidence=probs.get("specific", 0.0))
        return Plan("specific", chunks=tuple(h.chunk_id for h in hits), confidence=probs.get("specific", 0.0))

    MAX_TOPIC_CHUNKS = 8
    """A topic more of the article's passages name than this is its general subject ("hip", "pain"), not one."""

    def _topic(self, question: str, stems: frozenset[str]) -> Plan | None:
        """Everything the article says on one topic, when that is all the question asks ("what does the article say
        about shoes?", "list all the advice on footwear"): every passage that names it, across sections, in the
        article's order; one passage is a specific answer."""
        about = {nlp.stem(w) for w in nlp.words(question)} & ABOUT_STEMS  # "everything" is a stop word
        topic = stems - ABOUT_STEMS - FORM_STEMS - self.subject_stems
        if not about or not topic or not topic <= self.vocabulary | EVERYDAY_STEMS:
            return None  # only the article's own words around the asking ones: not "in a nutshell, how do I ..."
        if prefixes(topic) & self._title_prefixes:
            # "what does it say about treatment?": the section, as a list, answers that; with it, for "everything
            # about preventing hip pain", the FAQ pairs whose question names the topic ("What are the best shoes
            # for preventing hip pain?"). "List the causes" asks for the list alone.
            titled = self._titled_sections(question)
            if len(titled) != 1 or EVERYTHING not in about:
                return None
            section = self.listable[titled[0]]
            faqs = [c for c, words in self._faq_words.items() if words & topic and c not in section.items]
            return self._listing([section], 1.0, extra=faqs) if faqs else None
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
        terms = stems - FORM_STEMS
        named = self._items_named(set(terms))
        if len(named) == 1:
            # The term is an item's title ("what does cross-training mean for an injured runner?"): that item,
            # however rare the question's other words ("injured runner" is the support group's).
            return Plan("definition", chunks=(named[0][1],))
        candidates = [h.chunk_id for h in hits if h.doc.metadata.get("role") != "framing"]
        known = [t for t in terms if t in self.rarity]
        rarest = max(known, key=lambda t: (self.rarity[t], t)) if known else None
        if rarest and not any(rarest in self.words_of[c] for c in candidates):
            # The term none of the ranked passages names ("what is hip dysplasia?": the embedding ranks the
            # infection criterion first): the passages that name it, as the word count knows them.
            candidates += [c for c, words in self.chunk_stems.items() if rarest in words]
        best: tuple[float, str] | None = None
        for chunk_id in candidates:
            weight = sum(self.rarity.get(t, 0.0) for t in terms & self.words_of.get(chunk_id, frozenset()))
            if weight > 0 and (best is None or weight > best[0]):
                best = (weight, chunk_id)
        return Plan("definition", chunks=(best[1],)) if best else None

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
        asks_else = bool(ASKS_ELSE.search(question))
        ruled_out = self.ruled_out_items(question, tried=asks_else)
        # The best-scored of the section's chunks, the earliest among equals (as the ranking orders them); never
        # one the question rules out ("Other than numbness, what symptoms mean I should get help?").
        in_section = [c for c in (*section.leads, *section.items) if c not in ruled_out] or [*section.items]
        first = min(in_section, key=lambda c: (-ranking.score(c), ranking.position[c]))
        others = sorted((ranking.score(c) for c in section.items if c != first and c not in ruled_out), reverse=True)
        others = others or [ranking.score(first)]
        lead = ranking.score(first) - others[0] if first in section.items else 0.0
        asked = self.asked(vector, first) if lead >= self.AHEAD else 0.0
        if asked >= self.ASKED_SURE:
            return Plan("specific", focus=(first,), confidence=confidence)
        # "should i just pop ibuprofen, or are there better ways?" asks for the rest as well.
        stands_out = lead >= self.STANDOUT and (confidence < self.SURE_LIST or asked >= self.ASKED_MIN)
        if stands_out and not asks_else:
            return None
        named = self._named_sections(question)
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

    def announced(self, chunk_id: str) -> Plan | None:
        """The list that `chunk_id` announces, when it is the lead-in of a listed section; else None."""
        section = next((s for s in self.listable if chunk_id in s.leads[-1:]), None)
        return replace(self._listing([section], 1.0), whole_lead=True) if section else None

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

    def _asked_by_parts(self, question: str, lead: str) -> tuple[str, ...]:
        """The passages that parts of a question ask as one of their own questions, but `lead`: a part that asks
        (``ASKS_PART``) as near as ``ASKED_SURE`` to one of a passage's questions, or ``PART_ASKED_MIN`` and
        ``PART_ASKED_MARGIN`` nearer than to any other passage's."""
        texts = self.part_texts(question)
        if self.questions is None or not self.questions.ids or len(texts) < 2 or not any(map(ASKS_PART.match, texts)):
            return ()
        found: list[str] = []
        for part, vector in self.parts(question):
            if not ASKS_PART.match(part):
                continue
            (first, top), (_, second) = list(self._nearest_passages(vector, count=2).items())[:2]
            sure = top >= self.ASKED_SURE or (top >= self.PART_ASKED_MIN and top - second >= self.PART_ASKED_MARGIN)
            if sure and first != lead and first not in found:
                found.append(first)
        return tuple(found)

    def _faq_asked(self, question: str, vector: np.ndarray) -> tuple[str, ...]:
        """The FAQ pair whose questions a yes-or-no question asks nearly as one of them (``OWN_QUESTION``), with any
        other passage asked as nearly ("should i keep running thru the hip pain or take a break? and if break, how
        long": the running FAQ's 0.87, the rest FAQ's 0.82). Nothing when another passage's question comes within
        ``FAQ_MARGIN`` without reaching ``OWN_QUESTION``: "can i still run on a sore hip or do i need time off? and how
        long off?" is 0.80 from the running FAQ's and 0.79 from the rest FAQ's; the ranking weighs both."""
        if self.questions is None or not self.questions.ids or not YES_NO_QUESTION.match(question.strip()):
            return ()
        best = self._nearest_passages(vector, floor=self.OWN_QUESTION)
        first, *others = best
        if best[first] < self.OWN_QUESTION or self.documents[first].metadata.get("kind") != "faq":
            return ()
        # Only a question of several parts asks another passage as well: "Can I keep running with sore hips?" is
        # as near the rest FAQ's questions, and asks nothing of it.
        asked = [c for c in others if best[c] >= self.OWN_QUESTION] if len(self.part_texts(question)) > 1 else []
        runner_up = max((best[c] for c in others if c not in asked), default=0.0)
        return (first, *asked) if best[first] - runner_up >= self.FAQ_MARGIN else ()

    def _nearest_passages(self, vector: np.ndarray, *, floor: float = -math.inf, count: int = 0) -> dict[str, float]:
        """Each passage's nearest question to `vector`, nearest passage first: up to the first passage below
        `floor`, or `count` passages (all when 0)."""
        assert self.questions is not None
        similarities = self.questions.vectors @ vector
        best: dict[str, float] = {}
        for row in np.argsort(-similarities):
            chunk_id = self.questions.ids[row]
            if chunk_id in best:
                continue
            best[chunk_id] = float(similarities[row])
            if best[chunk_id] < floor or len(best) == count:
                break
        return best

    def asked(self, vector: np.ndarray, chunk_id: str) -> float:
        """How nearly the question is one the chunk answers (its questions in ``data/passage_questions.jsonl``)."""
        rows = self._question_rows.get(chunk_id)
        if self.questions is None or not rows:
            return 0.0
        return float((self.questions.vectors[rows] @ vector).max())

    def _alternatives(self, question: str, hits: list[Hit], confidence: float) -> Plan | None:
        """What else there is, when a specific answer would quote the very item the question rules out and asks
        to replace ("what can I do instead of physio?", "no surgery, what else is there?"): the other items of its
        section. Ruling out alone asks no such thing: "can I run without warming up?" asks about warming up."""
        top = next((h.chunk_id for h in hits if h.doc.metadata.get("role") != "framing"), None)
        asks_else = top is not None and ASKS_ELSE.search(question)
        out = self.ruled_out_items(question, tried=True) if asks_else else frozenset()
        if top not in out:
            return None
        # What it asks for instead may name its own section: "what can I eat instead of taking ibuprofen?"
        kept = self._kept_stems(question) - self.subject_stems
        named = [s for s in self.listable if kept & set(nlp.stems(s.title)) and top not in s.items]
        sections = named or [s for s in self.listable if top in s.items]
        return self._listing(sections, confidence, leave_out=out)
