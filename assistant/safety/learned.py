"""How people describe the four red flags, learned from examples rather than listed.

Per criterion, two logistic regressions are averaged (``classify.TextClassifier``): one over the clause's
sentence embedding (the same model the index uses), one over character
n-grams, which read "tinglyness" and "numbnes" for what they are. The
examples are package data (``data/safety_examples.jsonl``: first-person
reports in slang, typos and indirect wording, and hard benign clauses). Their
embeddings and the fitted weights are cached beside the ONNX model, keyed by
the examples, the model and the settings, so a start costs a file read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import datafiles
from ..classify import NgramFeatures, TextClassifier, cached_arrays, cached_vectors, load_jsonl, training_key
from ..embeddings import embed_texts
from . import normalize as normalize_module
from .names import RED_FLAGS
from .normalize import normalize

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

EXAMPLES = "safety_examples.jsonl"


def load_examples() -> list[dict[str, Any]]:
    return load_jsonl(EXAMPLES)


class LearnedDetector:
    """Probability per criterion that a clause reports it."""

    DENSE_C, SPARSE_C = 16.0, 32.0

    def __init__(self, embeddings: Embeddings, *, cache_dir: Path | None = None, model_key: str = "") -> None:
        self.embeddings = embeddings
        examples = load_examples()
        raw = [e["text"] for e in examples]
        labels = [",".join(sorted(e["labels"])) for e in examples]

        def fit() -> dict[str, np.ndarray]:
            # The detector reads normalized clauses ("can't" -> "can not"), so it learns from the same form.
            texts = [normalize(text) for text in raw]
            vectors = cached_vectors(embeddings, texts, cache_dir, model_key, "safety-examples")
            ngrams = NgramFeatures.fit(texts)
            arrays = ngrams.to_arrays()
            for name in RED_FLAGS:
                answers = [name in e["labels"] for e in examples]
                fitted = TextClassifier.fit(
                    texts, answers, vectors, ngrams, dense_c=self.DENSE_C, sparse_c=self.SPARSE_C
                )
                arrays.update(fitted.to_arrays(f"{name}."))
            return arrays

        # Keyed by the raw examples and the normalizer's code, so a cached start need not normalize them.
        normalizer = hashlib.sha256(
            Path(normalize_module.__file__).read_bytes() + datafiles.text(normalize_module.WORDS_FILE).encode()
        ).hexdigest()
        key = training_key(raw, labels, model_key, self.DENSE_C, self.SPARSE_C, RED_FLAGS, normalizer)
        arrays = cached_arrays(cache_dir, "safety-detector", key, fit)
        self.ngrams = NgramFeatures.from_arrays(arrays)
        self.criteria = [TextClassifier.from_arrays(arrays, f"{name}.", self.ngrams) for name in RED_FLAGS]

    def probabilities(self, clauses: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """(len(clauses), 4): for each clause, the probability that it reports each criterion."""
        if not clauses:
            return np.zeros((0, len(RED_FLAGS)))
        if vectors is None:
            vectors = embed_texts(self.embeddings, clauses)
        grams = self.ngrams.transform(clauses)
        columns = [c.probabilities(clauses, vectors, grams)[:, c.labels.index("True")] for c in self.criteria]
        return np.stack(columns, axis=1)
