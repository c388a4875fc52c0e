"""What a request asks for, learned from example requests (``data/scope_examples.jsonl``).

Word lists cannot keep up with the ways people ask for things the article
does not hold ("translate ...", "write me a limerick ...", "which clinic in
Denver ..."), so two classifiers (``classify.TextClassifier``: the question's
embedding and its character n-grams) read the request instead:

* **about the article or not**: a binary split, so the many kinds of "not"
  do not each take probability away from "article";
* **which kind of not**: a task that is not a question at all, another
  subject, or a question on the subject asking for a type of answer the
  article never gives (a dose, a brand, a price, a pace, a plan, a provider,
  a date, a statistic, a diagnosis of the person's own case, an exact number
  of reps, weeks or miles, side effects, how a procedure is done).

The example questions of ``data/answer_shapes.jsonl`` count as "article" too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import numpy as np

from .. import datafiles
from ..classify import NgramFeatures, TextClassifier, cached_arrays, cached_vectors, load_jsonl, training_key

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

RequestKind = Literal[
    "article",
    "task",
    "other_subject",
    "off_topic",
    "dose",
    "brand",
    "price",
    "pace",
    "plan",
    "provider",
    "date",
    "statistic",
    "diagnosis",
    "number",
    "side_effects",
    "procedure",
]
KINDS: tuple[RequestKind, ...] = get_args(RequestKind)
MISSING_TYPES: frozenset[str] = frozenset(KINDS[4:])
"""Answer types the article holds nothing of, on any subject."""
EXAMPLES = "scope_examples.jsonl"


def load_examples() -> list[dict[str, Any]]:
    rows = load_jsonl(EXAMPLES) + [{"text": e["text"], "label": "article"} for e in load_jsonl("answer_shapes.jsonl")]
    unknown = {r["label"] for r in rows} - set(KINDS)
    if unknown:
        raise datafiles.DataFileError(f"{EXAMPLES}: unknown labels {sorted(unknown)}; allowed: {', '.join(KINDS)}")
    return rows


@dataclass(frozen=True)
class Reading:
    """What the classifiers make of one request."""

    kind: RequestKind
    """The most likely kind other than "article"."""
    not_article: float
    """Probability that the request is not a question about the article."""
    kind_probability: float
    """Probability of `kind` among the kinds that are not about the article."""

    @property
    def score(self) -> float:
        """Probability that the request is not about the article *and* is of `kind`."""
        return self.not_article * self.kind_probability


UNREAD = Reading("article", 1.0, 0.0)
"""No reading (no classifier, or not English): no kind, and nothing vouches that the request is about the article."""


class RequestKinds:
    """Reads a request; trained on first use so front doors that never ask start fast."""

    def __init__(self, embeddings: Embeddings, *, cache_dir: Path | None = None, model_key: str = "") -> None:
        self.embeddings = embeddings
        self.cache_dir = cache_dir
        self.model_key = model_key
        self.rows = load_examples()
        """Read (and checked) at start, so a bad data file fails there and not at the first question."""

    @cached_property
    def _classifiers(self) -> tuple[TextClassifier, TextClassifier]:
        rows = self.rows
        texts = [r["text"] for r in rows]
        labels = [r["label"] for r in rows]
        other = [i for i, label in enumerate(labels) if label != "article"]

        def fit() -> dict[str, np.ndarray]:
            vectors = cached_vectors(self.embeddings, texts, self.cache_dir, self.model_key, "scope-examples")
            ngrams = NgramFeatures.fit(texts)
            about = TextClassifier.fit(
                texts, ["article" if x == "article" else "other" for x in labels], vectors, ngrams
            )
            kinds = TextClassifier.fit([texts[i] for i in other], [labels[i] for i in other], vectors[other], ngrams)
            return {**ngrams.to_arrays(), **about.to_arrays("about."), **kinds.to_arrays("kinds.")}

        arrays = cached_arrays(self.cache_dir, "scope-kinds", training_key(texts, labels, self.model_key), fit)
        ngrams = NgramFeatures.from_arrays(arrays)
        return TextClassifier.from_arrays(arrays, "about.", ngrams), TextClassifier.from_arrays(
            arrays, "kinds.", ngrams
        )

    def read(self, text: str, vector: np.ndarray) -> Reading:
        """How likely the request is not about the article, and if not, what it most likely is."""
        about, kinds = self._classifiers
        grams = about.grams([text])
        row = about.probabilities([text], vector.reshape(1, -1), grams)[0]
        kind, p_kind = kinds.best(text, vector, grams)
        # The kinds classifier's labels are the examples' labels other than "article", checked by load_examples.
        return Reading(cast(RequestKind, kind), float(row[about.labels.index("other")]), p_kind)
