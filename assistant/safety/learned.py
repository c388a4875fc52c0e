"""How people describe the four red flags, learned from examples rather than listed.

Per criterion, two logistic regressions are averaged: one over the clause's
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

from ..classify import cached_vectors, load_jsonl
from ..embeddings import embed_texts
from .names import RED_FLAGS
from .normalize import normalize

EXAMPLES = "safety_examples.jsonl"


def load_examples() -> list[dict]:
    return load_jsonl(EXAMPLES)


class LearnedDetector:
    """Probability per criterion that a clause reports it."""

    def __init__(self, embeddings, *, cache_dir: Path | None = None, model_key: str = "") -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.embeddings = embeddings
        examples = load_examples()
        # The detector reads normalized clauses ("can't" -> "can not"), so it learns from the same form.
        texts = [normalize(e["text"]) for e in examples]
        labels = np.array([[name in e["labels"] for name in RED_FLAGS] for e in examples])
        vectors = cached_vectors(embeddings, texts, cache_dir, model_key, "safety-examples")
        self.ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
        grams = self.ngrams.fit_transform(texts)
        self.dense = []
        self.sparse = []
        for i in range(len(RED_FLAGS)):
            self.dense.append(
                LogisticRegression(C=16.0, max_iter=3000, class_weight="balanced").fit(vectors, labels[:, i])
            )
            self.sparse.append(
                LogisticRegression(C=32.0, max_iter=3000, class_weight="balanced").fit(grams, labels[:, i])
            )

    def probabilities(self, clauses: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """(len(clauses), 4): for each clause, the probability that it reports each criterion."""
        if not clauses:
            return np.zeros((0, len(RED_FLAGS)))
        if vectors is None:
            vectors = embed_texts(self.embeddings, clauses)
        grams = self.ngrams.transform(clauses)
        columns = [
            0.5 * dense.predict_proba(vectors)[:, 1] + 0.5 * sparse.predict_proba(grams)[:, 1]
            for dense, sparse in zip(self.dense, self.sparse, strict=True)
        ]
        return np.stack(columns, axis=1)
