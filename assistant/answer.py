"""Answers and citations, and the extractive answerer that needs no language model.

An ``Answer`` is also its own stream chunk: the chain streams partial answers
and ``a + b`` joins them (text appended, citations and red flags merged), so
``invoke`` is the sum of what ``stream`` yields.

The extractive answerer quotes the 1-4 sentences of the retrieved chunks that
best answer the question and puts [n] after each; [n] is the n-th cited
chunk, whose exact text the citation carries. It can only repeat the article,
so it never states a number, dose, brand or procedure the article lacks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from . import nlp, texts
from .compose.words import answers_another_yes_no
from .corpus import CONCLUSION

if TYPE_CHECKING:
    from langchain_core.documents import Document

    from .compose import Plan
    from .retrieval import Hit
    from .settings import Settings
    from .store import SentenceTable
    from .turn import Turn

Criterion = Literal["persistent_pain", "severe_pain", "infection", "nerve_symptoms"]
RED_FLAGS: tuple[Criterion, ...] = ("persistent_pain", "severe_pain", "infection", "nerve_symptoms")


@dataclass(frozen=True)
class Citation:
    """The article text behind marker [n]."""

    marker: int
    chunk_id: str
    section: str
    text: str
    """The chunk's exact text: ``source_text[start:end]``."""
    source: str = ""
    start: int = 0
    end: int = 0
    title: str = ""
    quotes: tuple[str, ...] = ()
    """The sentences of this chunk that the answer repeats, verbatim."""


@dataclass(frozen=True)
class ListItem:
    """One bullet of a list or summary answer: the article's title for it and the quoted text."""

    marker: int
    title: str
    text: str
    """The quoted sentence(s), each ending in the marker."""
    chunk_id: str
    subtitles: tuple[str, ...] = ()
    """For a summary bullet: the titles of the section's items."""

    def markdown(self) -> str:
        label = f"**{self.title}**" + (f" ({'; '.join(self.subtitles)})" if self.subtitles else "")
        return f"- {label}: {self.text}"


ReferralKind = Literal["flagged", "care", "possible", "reminder"]


@dataclass(frozen=True)
class ReferralCriterion:
    """One of the article's criteria as the referral shows it."""

    name: Criterion
    title: str
    quote: str
    """The article's sentence, verbatim."""
    chunk_id: str
    section: str
    trigger: str | None = None
    """The words the person wrote that match it, when they do."""
    in_answer: bool = False
    """The answer right below quotes this criterion's sentence: the referral names it and what the person wrote,
    and does not print the same sentence twice."""


@dataclass(frozen=True)
class Referral:
    """The safety layer's referral: who should see a professional, why, and how soon."""

    kind: ReferralKind
    heading: str
    criteria: tuple[ReferralCriterion, ...]
    """Triggered criteria first (most urgent first), then the others."""
    urgency: str | None = None
    """The article's urgency for the most urgent triggered criterion ("warrants immediate medical attention")."""
    disclaimer: str = ""
    in_answer: bool = False
    """The answer lists every criterion itself (to "when should I see a doctor?"): the referral does not repeat
    them, it keeps its heading and disclaimer."""

    @property
    def shown(self) -> tuple[ReferralCriterion, ...]:
        """The criteria quoted in full: the triggered ones of a red flag, every one otherwise, none when the answer
        lists them."""
        if self.in_answer:
            return ()
        return self.triggered if self.kind == "flagged" else self.criteria

    @property
    def triggered(self) -> tuple[ReferralCriterion, ...]:
        return tuple(c for c in self.criteria if c.trigger is not None)

    @property
    def others(self) -> tuple[ReferralCriterion, ...]:
        return tuple(c for c in self.criteria if c.trigger is None)

    @property
    def text(self) -> str:
        """Plain text: heading, the matching criteria in full, the others by name, the disclaimer."""
        if self.kind == "reminder":
            return f"{self.heading}: {', '.join(c.title for c in self.criteria)}."
        lines = [self.heading]
        for c in self.shown:
            said = f' (you wrote "{c.trigger}")' if c.trigger else ""
            lines.append(f"- {c.title}{said}" + ("" if c.in_answer else f": \u201c{c.quote}\u201d"))
        if self.kind == "flagged" and self.others:
            lines.append(f"{texts.REFERRAL_OTHERS}: " + ", ".join(c.title for c in self.others) + ".")
        if self.disclaimer:
            lines.append(self.disclaimer)
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Referral:
        """The inverse of ``to_dict`` (what the HTTP API returns)."""
        fields = {f: data[f] for f in ("kind", "heading", "urgency", "disclaimer", "in_answer") if f in data}
        return cls(**fields, criteria=tuple(ReferralCriterion(**c) for c in data.get("criteria", ())))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["criteria"] = [dict(c) for c in data["criteria"]]
        data["text"] = self.text
        data["triggers"] = {c.name: c.trigger for c in self.triggered}
        return data


@dataclass
class Answer:
    """What the assistant says, where it comes from, and any referral."""

    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    red_flags: list[Criterion] = field(default_factory=list)
    referral: Referral | None = None
    abstained: bool = False
    answerer: str = ""
    notice: str | None = None
    """A note about how the question was handled (a long message cut, a model fallback)."""
    shape: str = ""
    """'specific', 'list', 'summary' or 'definition' (see ``compose``)."""
    items: list[ListItem] = field(default_factory=list)
    """The bullets of a list or summary answer, in the order ``text`` shows them."""
    timings: dict[str, float] | None = None
    """Milliseconds per step (condense, embed, rank, scope, plan, safety, answer) when asked for (``debug``)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of ``to_dict``: the page keeps answers in the browser as JSON and renders them again."""
        names = ("text", "red_flags", "abstained", "answerer", "notice", "shape", "timings")
        known = {f: data[f] for f in names if f in data}
        return cls(
            **known,
            citations=[Citation(**{**c, "quotes": tuple(c.get("quotes", ()))}) for c in data.get("citations", ())],
            referral=Referral.from_dict(data["referral"]) if data.get("referral") else None,
            items=[ListItem(**{**i, "subtitles": tuple(i.get("subtitles", ()))}) for i in data.get("items", ())],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: only str, int, bool, None, lists and dicts."""
        data = asdict(self)
        data["referral"] = self.referral.to_dict() if self.referral else None
        for citation in data["citations"]:
            citation["quotes"] = list(citation["quotes"])
        for item in data["items"]:
            item["subtitles"] = list(item["subtitles"])
        return data

    def __radd__(self, other: object) -> Answer:
        """``sum(chunks)`` starts from 0."""
        if other == 0:
            return self
        return NotImplemented

    def __add__(self, other: Answer) -> Answer:
        if not isinstance(other, Answer):
            return NotImplemented
        markers = {c.marker for c in self.citations}
        return Answer(
            text=self.text + other.text,
            citations=self.citations + [c for c in other.citations if c.marker not in markers],
            red_flags=list(dict.fromkeys(self.red_flags + other.red_flags)),
            referral=self.referral or other.referral,
            abstained=self.abstained or other.abstained,
            answerer=self.answerer or other.answerer,
            notice=" ".join(n for n in (self.notice, other.notice) if n) or None,
            shape=self.shape or other.shape,
            items=self.items + other.items,
            timings={**(self.timings or {}), **(other.timings or {})} or None,
        )


_MARKER = re.compile(r"\s*\[\d+\]")
_LABEL = re.compile(r"^\s*-\s+\*\*[^*\n]+\*\*(?:\s*\([^)\n]*\))?:\s*|\*\*[^*\n]+\*\*:\s*", re.MULTILINE)
# Sentences that lean on the one before them ("However, these should ...").
_LEANS_BACK = re.compile(r"^(?:however|but|they|these|this|those|it|also|additionally|this helps)\b", re.IGNORECASE)
# A sentence that restricts the one before it ("However, these should be used sparingly and under the guidance of
# a healthcare professional"): quoted with it, never left behind.
_CAVEAT = re.compile(r"^(?:however|but|although|though|that said|note that|be careful|be sure)\b", re.IGNORECASE)


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def strip_labels(text: str) -> str:
    """The answer without its titles: bullets' labels ("- **Rest and Ice**: ") and a sentence's
    ("**Inadequate Warm-Up or Cool-Down**: "). What is left is quoted text."""
    return _LABEL.sub("", text)


@dataclass(frozen=True)
class Quote:
    """A sentence chosen for the answer: its row in the sentence table and its chunk."""

    row: int
    chunk_id: str
    text: str
    score: float


def with_marker(sentence: str, marker: int, *, announces: bool = False) -> str:
    """'... inflammation.' -> '... inflammation [1].'

    A lead-in that ends in a colon ("... happy and healthy:") ends with a
    period instead, since the list it announces is not part of the answer,
    unless `announces`: then the list follows and the colon stays.
    """
    body = sentence.rstrip()
    if body.endswith(":"):
        if announces:
            return f"{body[:-1].rstrip()} [{marker}]:"
        body = body[:-1].rstrip() + "."
    end = len(body)
    while end > 0 and body[end - 1] in ".!?\"'\u201d\u2019":
        end -= 1
    return f"{body[:end]} [{marker}]{body[end:]}"


MARGIN_WITHIN = 0.2
"""A specific answer quotes the top chunk's sentences within this score of its best one (tuned on the dev set)."""


def select_quotes(
    vector: np.ndarray,
    query: str,
    hits: Sequence[Hit],
    table: SentenceTable,
    *,
    max_sentences: int,
    lexical_weight: float = 0.25,
    margin_within: float = MARGIN_WITHIN,
    margin_beyond: float = 0.0,
    other_chunks: int = 2,
    required: Sequence[str] = (),
) -> list[Quote]:
    """The sentences that best answer the query, led by the top-ranked chunk.

    A sentence scores its cosine similarity to the query plus a share of the
    query's words it contains. The answer leads with the top chunk (fused
    ranking beats single-sentence similarity at choosing the right chunk):
    its sentences within `margin_within` of its best one, then sentences of
    the next chunks only if they score at least that best minus
    `margin_beyond`. Measured on the dev set (``evals/``). Each chunk in
    `required` (the red flags the question reports) adds its best sentence.
    """
    if not hits:
        return []
    query_stems = set(nlp.stems(query))

    def quote(row: int, chunk_id: str) -> Quote:
        sim = float(table.vectors[row] @ vector)
        overlap = len(query_stems & set(nlp.stems(table.texts[row]))) / len(query_stems) if query_stems else 0.0
        return Quote(row, chunk_id, table.texts[row], sim + lexical_weight * overlap)

    top = hits[0].chunk_id
    lead = sorted((quote(r, top) for r in table.rows_by_chunk.get(top, [])), key=lambda q: -q.score)
    if not lead:
        return []
    best = lead[0].score
    chosen = [q for q in lead if q.score >= best - margin_within]
    chosen += [
        max((quote(r, chunk_id) for r in table.rows_by_chunk[chunk_id]), key=lambda q: q.score)
        for chunk_id in dict.fromkeys(required)
        if chunk_id != top and table.rows_by_chunk.get(chunk_id)
    ]
    beyond = [
        q
        for hit in hits[1 : 1 + other_chunks]
        if hit.chunk_id not in required
        for q in (quote(r, hit.chunk_id) for r in table.rows_by_chunk.get(hit.chunk_id, []))
        if q.score >= best - margin_beyond
    ]
    chosen = (chosen + sorted(beyond, key=lambda q: -q.score))[:max_sentences]
    chosen_rows = {q.row for q in chosen}
    # A sentence that starts "However, these ..." brings the sentence it leans on.
    for q in list(chosen):
        rows = table.rows_by_chunk[q.chunk_id]
        i = rows.index(q.row)
        if i > 0 and _LEANS_BACK.match(q.text) and rows[i - 1] not in chosen_rows:
            chosen.append(Quote(rows[i - 1], q.chunk_id, table.texts[rows[i - 1]], q.score))
            chosen_rows.add(rows[i - 1])
        if i + 1 < len(rows) and _CAVEAT.match(table.texts[rows[i + 1]]) and rows[i + 1] not in chosen_rows:
            chosen.append(Quote(rows[i + 1], q.chunk_id, table.texts[rows[i + 1]], q.score))
            chosen_rows.add(rows[i + 1])
    return chosen


def render(quotes: list[Quote], documents: dict[str, Document]) -> list[Answer]:
    """One stream chunk per sentence, marker included; a chunk's citation rides on its first sentence.

    Chunks appear in the order of their best sentence; within a chunk the
    sentences keep the article's order so the prose reads as written.
    """
    by_chunk: dict[str, list[Quote]] = {}
    for quote in quotes:
        by_chunk.setdefault(quote.chunk_id, []).append(quote)
    pieces: list[Answer] = []
    for marker, (chunk_id, chunk_quotes) in enumerate(by_chunk.items(), start=1):
        ordered = sorted(chunk_quotes, key=lambda q: q.row)
        citation = _citation(marker, chunk_id, documents, [q.text for q in ordered])
        doc = documents[chunk_id]
        for i, quote in enumerate(ordered):
            separator = " " if pieces else ""
            text = with_marker(quote.text, marker)
            pieces.append(
                Answer(text=separator + _under_title(text, quote.text, doc), citations=[citation] if i == 0 else [])
            )
    return pieces


_NAMES_BY_TITLE = re.compile(r"\b(?:these|those|this|they|them)\b", re.IGNORECASE)


def _under_title(text: str, sentence: str, doc: Document) -> str:
    """An item's first sentence that names its subject only as "these" or "this" reads under its title, as in
    the article and in a list's bullet: "**Inadequate Warm-Up or Cool-Down**: Skipping these essential parts of
    your running routine ...", not "Skipping these essential parts ..." alone."""
    title = doc.metadata.get("title")
    if (
        doc.metadata.get("kind") == "item"
        and title
        and doc.page_content.startswith(f"{title}: {sentence}")
        and _NAMES_BY_TITLE.search(sentence)
    ):
        return f"**{title}**: {text}"
    return text


FRAMING_LEAD_MARGIN = 0.05
"""A framing chunk (introduction, lead-in, conclusion) leads a specific answer only when it
outranks the best content chunk by this much; it never pads one. Measured on the dev set."""


def is_framing(doc: Document) -> bool:
    return doc.metadata.get("role") == "framing"


def without_framing(hits: list[Hit], margin: float = FRAMING_LEAD_MARGIN) -> list[Hit]:
    """The hits a specific answer may quote: content first; framing only as the clear best."""
    content = [h for h in hits if not is_framing(h.doc)]
    if not content:
        return hits[:1]
    if is_framing(hits[0].doc) and hits[0].score - content[0].score >= margin:
        return [hits[0], *content]
    return content


WHOLE_ITEM_WORDS = 40
"""An item this short is quoted whole: "rest" without "apply ice ... 15-20 minutes" is half the advice."""
KEY_SENTENCE_MARGIN = 0.1
"""An item's opening sentence is its key sentence unless another answers the question this much better."""


def key_rows(rows: list[int], vector: np.ndarray, table: SentenceTable) -> list[int]:
    """An item's key sentence for the question, with what it leans on and its caveats.

    "However, these should be used sparingly ..." follows the NSAIDs sentence
    it qualifies; a bullet never drops a caveat the article attaches.
    """
    if not rows:
        return []
    if len(rows) <= 2 and sum(len(table.texts[r].split()) for r in rows) <= WHOLE_ITEM_WORDS:
        return list(rows)
    best = rows[0]
    if vector.size:
        top = max(rows, key=lambda r: float(table.vectors[r] @ vector))
        if float(table.vectors[top] @ vector) - float(table.vectors[best] @ vector) >= KEY_SENTENCE_MARGIN:
            best = top
    i = rows.index(best)
    chosen = [best]
    while i > 0 and _LEANS_BACK.match(table.texts[rows[i]]):
        i -= 1
        chosen.insert(0, rows[i])
    j = rows.index(best) + 1
    while j < len(rows) and _LEANS_BACK.match(table.texts[rows[j]]):
        chosen.append(rows[j])
        j += 1
    return chosen


def _citation(marker: int, chunk_id: str, documents: dict[str, Document], quotes: Sequence[str]) -> Citation:
    meta = documents[chunk_id].metadata
    return Citation(
        marker=marker,
        chunk_id=chunk_id,
        section=meta["section"],
        text=documents[chunk_id].page_content,
        source=meta["source"],
        start=meta["start"],
        end=meta["end"],
        title=meta.get("title", ""),
        quotes=tuple(quotes),
    )


def render_plan(
    plan: Plan, vector: np.ndarray, table: SentenceTable, documents: dict[str, Document]
) -> Iterator[Answer]:
    """A list, summary or definition answer, one stream chunk per lead-in or bullet.

    List: the section's announcing sentence, then one bullet per item, ``**Title**: key sentence [n]``.
    Summary: one bullet per section, its item titles and its most telling sentence.
    Definition: the sentences of the chunk that names the term.
    """
    marker = 0
    started = False
    for chunk_id in plan.chunks:
        rows = table.rows_by_chunk.get(chunk_id, [])
        doc = documents.get(chunk_id)
        if not rows or doc is None:
            continue
        marker += 1
        meta = doc.metadata
        if plan.shape == "summary":
            rows = [_summary_row(rows, doc)]
            section = meta["section"]
            subtitles = tuple(
                d.metadata.get("title", "")
                for d in documents.values()
                if d.metadata["section"] == section and d.metadata.get("kind") in ("item", "faq")
            )
            quotes = [table.texts[r] for r in rows]
            item = ListItem(marker, section, " ".join(with_marker(q, marker) for q in quotes), chunk_id, subtitles)
            text = ("\n" if started else "") + item.markdown()
        elif plan.shape == "list" and is_framing(doc):
            quotes = [table.texts[r] for r in (rows if plan.whole_lead else rows[-1:])]
            sentences = [with_marker(q, marker, announces=i == len(quotes) - 1) for i, q in enumerate(quotes)]
            text = ("\n\n" if started else "") + " ".join(sentences) + "\n"
            item = None
        elif plan.shape == "list":
            quotes = [table.texts[r] for r in key_rows(rows, vector, table)]
            title = meta.get("title") or meta["section"]
            item = ListItem(marker, title, " ".join(with_marker(q, marker) for q in quotes), chunk_id)
            text = ("\n" if started else "") + item.markdown()
        else:
            quotes = [table.texts[r] for r in key_rows(rows, vector, table)]
            text = (" " if started else "") + " ".join(with_marker(q, marker) for q in quotes)
            item = None
        started = True
        yield Answer(
            text=text,
            citations=[_citation(marker, chunk_id, documents, quotes)],
            items=[item] if item else [],
        )


def _summary_row(rows: list[int], doc: Document) -> int:
    """A section's lead-in announces its list in its last sentence; anything else opens with its point."""
    return rows[-1] if is_framing(doc) and len(rows) > 1 and doc.metadata["section"] != CONCLUSION else rows[0]


class Answerer(Protocol):
    """What the chain needs of an answerer: a name, and the answer to a turn streamed in pieces.

    The first piece may carry only the answerer's name and shape; every later piece adds text and the
    citations of its markers (``Answer.__add__`` joins them). The chain adds the safety layer's part.
    """

    name: str

    def stream(self, turn: Turn) -> Iterator[Answer]: ...


class ExtractiveAnswerer:
    """Quotes the article. The default: no language model, cannot invent."""

    name = "extractive"

    def __init__(self, settings: Settings, table: SentenceTable, documents: dict[str, Document]) -> None:
        self.settings = settings
        self.table = table
        self.documents = documents

    def quotes(self, turn: Turn) -> list[Quote]:
        """The sentences that answer a specific question; all of the item when the plan focuses one ("what's the
        first thing to do when my hip starts hurting?" is rest *and* ice, not its first sentence alone), and all of
        a FAQ answer that leads: the article's own short answer to the question ("what shoes are best?" is support
        and cushioning, fit to the foot, *and* a specialist's advice)."""
        hits = without_framing(turn.hits)
        whole = bool(turn.plan.focus) or bool(hits and hits[0].doc.metadata.get("kind") == "faq")
        # A second focused item (the other half of a pair the question names) is added like a twin.
        related = (*turn.plan.focus[1:], *turn.plan.related)
        quotes = select_quotes(
            turn.vector,
            turn.query,
            [
                h
                for i, h in enumerate(hits)
                if h.chunk_id not in related
                and not (i > 0 and answers_another_yes_no(turn.question, h.doc.page_content))
            ],
            self.table,
            max_sentences=self.settings.max_sentences,
            required=turn.reported,
            margin_within=math.inf if whole else MARGIN_WITHIN,
        )
        # The twin's point, as a list's bullet gives it (its key sentence), after the passage it pairs with; a FAQ
        # pair another part of the question asks, whole, as the article answers it.
        held = {q.chunk_id for q in quotes}
        for chunk_id in (c for c in related if c not in held):
            rows = self.table.rows_by_chunk.get(chunk_id, [])
            if chunk_id not in turn.plan.focus or self.documents[chunk_id].metadata.get("kind") != "faq":
                rows = key_rows(rows, turn.vector, self.table)
            quotes += [Quote(r, chunk_id, self.table.texts[r], 0.0) for r in rows]
        return quotes

    def stream(self, turn: Turn) -> Iterator[Answer]:
        """One sentence (or one bullet) at a time, each with its marker; citations ride along."""
        plan = turn.plan
        yield Answer(answerer=self.name, shape=plan.shape)
        if plan.shape != "specific":
            yield from render_plan(plan, turn.vector, self.table, self.documents)
        else:
            yield from render(self.quotes(turn), self.documents)
