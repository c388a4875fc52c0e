"""The article as the composer sees it: sections with their lead-ins and items, and the plan of an answer."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .. import nlp
from ..classify import load_jsonl
from ..corpus import CONCLUSION
from .words import GENERIC_STEMS

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

    from ..retrieval import Ranking
    from ..store import ChunkVectors

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
    whole_lead: bool = False
    """For a list: its lead-in answers the question too ("does nutrition play a part in getting over a hip injury?":
    "Nutrition plays a crucial role in the recovery process"), so all of it is quoted, not only the sentence that
    announces the list."""


def load_examples() -> list[dict[str, Any]]:
    """Example questions per shape (package data, not code)."""
    return load_jsonl("answer_shapes.jsonl")


class ArticleView:
    """What ``Composer.__init__`` reads off the article once; the readers of a question's shape, sections and
    items (``shapes``, ``sections``, ``items``) share it. Each attribute is documented where it is set."""

    documents: dict[str, Document]
    embeddings: Embeddings
    cache_dir: Path | None
    model_key: str
    rank: Callable[[str, np.ndarray], Ranking] | None
    questions: ChunkVectors | None
    sections: list[Section]
    listable: list[Section]
    own_terms: list[set[str]]
    item_terms: dict[str, set[str]]
    topic_terms: set[str]
    subject_stems: frozenset[str]
    chunk_stems: dict[str, frozenset[str]]
    twins: dict[str, tuple[str, ...]]
    _title_slack: dict[str, int]
    _items_by_rarest: dict[str, list[tuple[Section, str]]]
    _own_title_words: frozenset[str]
    _twin_words: dict[str, tuple[str, str]]
    _section_of: dict[str, Section]
    _section_rows: list[np.ndarray] | None


def prefixes(stems: Collection[str]) -> set[str]:
    """Stems cut to five letters, so "treat" and "treatment" meet."""
    return {stem[:5] for stem in stems}


def prefixed_terms(text: str) -> set[str]:
    """Word prefixes, so "treated", "treating" and "treatment" meet."""
    return prefixes(nlp.stems(text))


def own_title_terms(sections: list[Section], documents: dict[str, Document]) -> list[set[str]]:
    """Each section's words in its title, less those most sections share ("hip", "pain"), general words
    (``data/generic_words.txt``) and the article's own subject, named by its file ("hip-pain-from-running":
    "running" says nothing of a section)."""
    bodies = [body_terms(s, documents) for s in sections]
    # A title's figure of speech ("Prevention: The Best Medicine") is not what the section holds: a title word
    # that another section's text uses and this one's does not ("medicine": the medications) is dropped.
    terms = [
        {t for t in prefixed_terms(s.title) if t in bodies[i] or not any(t in b for b in bodies)}
        for i, s in enumerate(sections)
    ]
    shared = {t for t in set().union(*terms) if sum(t in ts for ts in terms) * 2 >= len(sections)} if terms else set()
    subject = set().union(
        *(prefixed_terms(Path(d.metadata["source"]).stem.replace("-", " ")) for d in documents.values())
    )
    # "Treatment Options", "The Role of Nutrition": words any question may use for its form ("what are my options
    # for preventing it?") are no title's own.
    generic = prefixes(GENERIC_STEMS)
    return [ts - shared - subject - generic for ts in terms]


def body_terms(section: Section, documents: dict[str, Document]) -> set[str]:
    """Word prefixes of a section's own text."""
    return set().union(*(prefixed_terms(documents[c].page_content) for c in (*section.leads, *section.items)))


def article_sections(documents: dict[str, Document]) -> list[Section]:
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
