"""Small text classifiers trained at start-up on example phrasings kept as package data.

Two parts used by more than one layer (safety, scope):

* ``cached_vectors``: the examples' sentence embeddings, cached beside the
  ONNX model and keyed by the texts and the model, so a start costs a file
  read instead of embedding hundreds of examples;
* ``TextClassifier``: the average of two logistic regressions, one over the
  sentence embedding (meaning: "a poem about my hip" is a writing task) and
  one over character n-grams (form: "mg", "brand", "tinglyness").
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .embeddings import embed_texts

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

log = logging.getLogger(__name__)


def load_jsonl(name: str) -> list[dict]:
    """Rows of a JSON-lines file in ``assistant/data``."""
    text = resources.files("assistant").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def cached_vectors(embeddings, texts: Sequence[str], cache_dir: Path | None, model_key: str, name: str) -> np.ndarray:
    """Embeddings of `texts`, from ``cache_dir/<name>-<digest>.npy`` when the same texts were embedded before."""
    digest = hashlib.sha256(("\n".join(texts) + "\0" + model_key).encode()).hexdigest()[:16]
    path = cache_dir / f"{name}-{digest}.npy" if cache_dir else None
    if path and path.exists():
        try:
            return np.load(path)
        except (OSError, ValueError) as exc:
            log.warning("Ignoring the unreadable cache %s (%s)", path, exc)
    vectors = embed_texts(embeddings, list(texts))
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
        except OSError as exc:
            log.warning("Could not cache the embeddings of %s at %s (%s)", name, path, exc)
    return vectors


class TextClassifier:
    """Multi-class: probabilities per label from meaning and from form, averaged.

    Classifiers that read the same texts can share one fitted n-gram vectorizer (``ngrams``), so a request is
    turned into n-grams once. Probabilities are computed from the fitted weights directly: sklearn's per-call
    checks cost more than the arithmetic on one short text, and every question pays them.
    """

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        vectors: np.ndarray,
        *,
        dense_c: float = 8.0,
        sparse_c: float = 8.0,
        ngrams: TfidfVectorizer | None = None,
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        self.ngrams = ngrams if ngrams is not None else fit_ngrams(texts)
        grams = self.ngrams.transform([t.lower() for t in texts])
        y = np.array(labels)
        dense = LogisticRegression(C=dense_c, max_iter=3000, class_weight="balanced").fit(vectors, y)
        sparse = LogisticRegression(C=sparse_c, max_iter=3000, class_weight="balanced").fit(grams, y)
        self.labels: tuple[str, ...] = tuple(str(label) for label in dense.classes_)
        self._dense = (dense.coef_.T, dense.intercept_)
        self._sparse = (sparse.coef_.T, sparse.intercept_)

    def grams(self, texts: Sequence[str]):
        return self.ngrams.transform([t.lower() for t in texts])

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray, grams=None) -> np.ndarray:
        """(len(texts), len(self.labels)); `grams` when the caller already has ``self.grams(texts)``."""
        grams = self.grams(texts) if grams is None else grams
        dense = _probabilities(vectors @ self._dense[0] + self._dense[1])
        sparse = _probabilities(np.asarray(grams @ self._sparse[0]) + self._sparse[1])
        return 0.5 * dense + 0.5 * sparse

    def best(self, text: str, vector: np.ndarray, grams=None) -> tuple[str, float]:
        """The most likely label of one text and its probability."""
        row = self.probabilities([text], vector.reshape(1, -1), grams)[0]
        i = int(row.argmax())
        return self.labels[i], float(row[i])


def fit_ngrams(texts: Sequence[str]) -> TfidfVectorizer:
    """Character n-grams within words: "mg", "brand", "tinglyness" read for what they are."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True).fit(
        [t.lower() for t in texts]
    )


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """LogisticRegression's predict_proba from its decision scores: a sigmoid for two classes, else a softmax."""
    if scores.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-scores))
        return np.hstack([1.0 - positive, positive])
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)
