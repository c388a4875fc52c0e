"""How people describe the four red flags, learned from examples rather than listed.

Per criterion, two logistic regressions are averaged (``classify.TextClassifier``): one over the clause's
sentence embedding (the same model the index uses), one over character
n-grams, which read "tinglyness" and "numbnes" for what they are. The
examples are package data (``data/safety_examples.jsonl``: first-person
reports in slang, typos and indirect wording, and hard benign clauses). Their
embeddings are cached beside the ONNX model, keyed by the examples and the
model, so a start costs a file read and two small fits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..classify import TextClassifier, cached_vectors, fit_ngrams, load_jsonl
from ..embeddings import embed_texts
from .names import RED_FLAGS
from .normalize import normalize

EXAMPLES = "safety_examples.jsonl"


def load_examples() -> list[dict]:
    return load_jsonl(EXAMPLES)


class LearnedDetector:
    """Probability per criterion that a clause reports it."""

    def __init__(self, embeddings, *, cache_dir: Path | None = None, model_key: str = "") -> None:
        self.embeddings = embeddings
        examples = load_examples()
        # The detector reads normalized clauses ("can't" -> "can not"), so it learns from the same form.
        texts = [normalize(e["text"]) for e in examples]
        vectors = cached_vectors(embeddings, texts, cache_dir, model_key, "safety-examples")
        self.ngrams = fit_ngrams(texts)
        self.criteria = [
            TextClassifier(
                texts,
                [name in e["labels"] for e in examples],
                vectors,
                dense_c=16.0,
                sparse_c=32.0,
                ngrams=self.ngrams,
            )
            for name in RED_FLAGS
        ]

    def probabilities(self, clauses: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """(len(clauses), 4): for each clause, the probability that it reports each criterion."""
        if not clauses:
            return np.zeros((0, len(RED_FLAGS)))
        if vectors is None:
            vectors = embed_texts(self.embeddings, clauses)
        grams = self.ngrams.transform(clauses)
        columns = [c.probabilities(clauses, vectors, grams)[:, c.labels.index("True")] for c in self.criteria]
        return np.stack(columns, axis=1)
