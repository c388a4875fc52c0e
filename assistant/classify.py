"""Small text classifiers trained on example phrasings kept as package data.

Parts used by more than one layer (safety, scope, compose):

* ``cached_arrays`` / ``cached_vectors``: the examples' sentence embeddings and
  the fitted weights, cached beside the ONNX model and keyed by the examples,
  the model and the settings, so a start costs a file read instead of
  embedding hundreds of examples and fitting (and importing scikit-learn);
* ``TextClassifier``: the average of two logistic regressions, one over the
  sentence embedding (meaning: "a poem about my hip" is a writing task) and
  one over character n-grams (form: "mg", "brand", "tinglyness").
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import datafiles
from .embeddings import embed_texts

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)


load_jsonl = datafiles.jsonl


def cached_arrays(
    cache_dir: Path | None, name: str, key: str, compute: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """``compute()``, or what it returned before for the same `key` (``cache_dir/<name>-<digest>.npz``)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = cache_dir / f"{name}-{digest}.npz" if cache_dir else None
    if path and path.exists():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {k: stored[k] for k in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            log.warning("Ignoring the unreadable cache %s (%s)", path, exc)
    arrays = compute()
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            # allow_pickle is numpy's default, named so that mypy does not match **arrays against it.
            np.savez(tmp, allow_pickle=True, **arrays)
            tmp.replace(path)
        except OSError as exc:
            log.warning("Could not cache %s at %s (%s)", name, path, exc)
    return arrays


def cached_vectors(
    embeddings: Embeddings, texts: Sequence[str], cache_dir: Path | None, model_key: str, name: str
) -> np.ndarray:
    """Embeddings of `texts`, from the cache when the same texts were embedded by the same model before."""
    key = "\n".join(texts) + "\0" + model_key
    return cached_arrays(cache_dir, name, key, lambda: {"vectors": embed_texts(embeddings, list(texts))})["vectors"]


def training_key(texts: Sequence[str], labels: Sequence[object], model_key: str, *params: object) -> str:
    """What a fitted classifier depends on: its examples, the embedding model, its settings, scikit-learn."""
    from importlib.metadata import version

    rows = "\n".join(f"{label}\t{text}" for text, label in zip(texts, labels, strict=True))
    return f"{rows}\0{model_key}\0{params}\0{version('scikit-learn')}"


class NgramFeatures:
    """Character n-grams within words (``char_wb``, 2-5), tf-idf weighted: "mg", "brand", "tinglyness".

    Fitted with scikit-learn's ``TfidfVectorizer``; transforming a question needs only its vocabulary and idf
    weights, computed here the same way (sublinear tf, l2 norm), so a start that loads a fitted model from the
    cache never imports scikit-learn.
    """

    _SPACES = re.compile(r"\s\s+")
    RANGE = (2, 5)
    WORD_CACHE = 65536
    """Words whose vocabulary columns are kept (``_columns``)."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray) -> None:
        self.vocabulary = {gram: i for i, gram in enumerate(vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self._word_columns: dict[str, tuple[int, ...]] = {}

    @classmethod
    def fit(cls, texts: Sequence[str]) -> NgramFeatures:
        from sklearn.feature_extraction.text import TfidfVectorizer

        fitted = TfidfVectorizer(analyzer="char_wb", ngram_range=cls.RANGE, min_df=2, sublinear_tf=True)
        fitted.fit([t.lower() for t in texts])
        vocabulary = sorted(fitted.vocabulary_, key=fitted.vocabulary_.get)
        return cls(vocabulary, fitted.idf_)

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {f"{prefix}vocabulary": np.array(list(self.vocabulary)), f"{prefix}idf": self.idf}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "") -> NgramFeatures:
        return cls([str(g) for g in arrays[f"{prefix}vocabulary"]], arrays[f"{prefix}idf"])

    def _words(self, text: str) -> list[str]:
        return self._SPACES.sub(" ", text.lower()).split()

    def _word_grams(self, word: str) -> list[str]:
        """scikit-learn's ``char_wb`` analyzer: the word padded with a space, n-grams inside it."""
        low, high = self.RANGE
        word = f" {word} "
        out: list[str] = []
        for n in range(low, high + 1):
            out.extend(word[i : i + n] for i in range(max(1, len(word) - n + 1)))
            if len(word) <= n:  # a short word counts once
                break
        return out

    def _columns(self, word: str) -> tuple[int, ...]:
        """The vocabulary columns of one word's n-grams, kept: words recur across questions, and this was most
        of a question's featurizing time."""
        columns = self._word_columns.get(word)
        if columns is None:
            found = map(self.vocabulary.get, self._word_grams(word))
            columns = tuple(i for i in found if i is not None)
            if len(self._word_columns) < self.WORD_CACHE:
                self._word_columns[word] = columns
        return columns

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), vocabulary size): sublinear tf times idf, each row of unit length."""
        out = np.zeros((len(texts), len(self.idf)))
        for row, text in enumerate(texts):
            counts = Counter(i for word in self._words(text) for i in self._columns(word))
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[columns]
            out[row, columns] = weights / np.linalg.norm(weights)
        return out


class TextClassifier:
    """Multi-class: probabilities per label from meaning and from form, averaged.

    The weights of two logistic regressions, one over the sentence embedding and one over character n-grams.
    Classifiers that read the same texts share one ``NgramFeatures``, so a request is turned into n-grams once.
    Probabilities are computed from the weights directly: scikit-learn is needed to fit, not to answer.
    """

    def __init__(
        self,
        labels: Sequence[str],
        dense: tuple[np.ndarray, np.ndarray],
        sparse: tuple[np.ndarray, np.ndarray],
        ngrams: NgramFeatures,
    ) -> None:
        self.labels: tuple[str, ...] = tuple(str(label) for label in labels)
        self._dense = dense
        self._sparse = sparse
        self.ngrams = ngrams

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[object],
        vectors: np.ndarray,
        ngrams: NgramFeatures,
        *,
        dense_c: float = 8.0,
        sparse_c: float = 8.0,
    ) -> TextClassifier:
        from sklearn.linear_model import LogisticRegression

        y = np.array(labels)
        dense = LogisticRegression(C=dense_c, max_iter=3000, class_weight="balanced").fit(vectors, y)
        sparse = LogisticRegression(C=sparse_c, max_iter=3000, class_weight="balanced").fit(ngrams.transform(texts), y)
        return cls(dense.classes_, (dense.coef_.T, dense.intercept_), (sparse.coef_.T, sparse.intercept_), ngrams)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}labels": np.array(self.labels),
            f"{prefix}dense_w": self._dense[0],
            f"{prefix}dense_b": self._dense[1],
            f"{prefix}sparse_w": self._sparse[0],
            f"{prefix}sparse_b": self._sparse[1],
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, ngrams: NgramFeatures) -> TextClassifier:
        return cls(
            [str(label) for label in arrays[f"{prefix}labels"]],
            (arrays[f"{prefix}dense_w"], arrays[f"{prefix}dense_b"]),
            (arrays[f"{prefix}sparse_w"], arrays[f"{prefix}sparse_b"]),
            ngrams,
        )

    def grams(self, texts: Sequence[str]) -> np.ndarray:
        return self.ngrams.transform(texts)

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray, grams: np.ndarray | None = None) -> np.ndarray:
        """(len(texts), len(self.labels)); `grams` when the caller already has ``self.grams(texts)``."""
        grams = self.grams(texts) if grams is None else grams
        dense = _probabilities(vectors @ self._dense[0] + self._dense[1])
        sparse = _probabilities(grams @ self._sparse[0] + self._sparse[1])
        return 0.5 * dense + 0.5 * sparse

    def best(self, text: str, vector: np.ndarray, grams: np.ndarray | None = None) -> tuple[str, float]:
        """The most likely label of one text and its probability."""
        row = self.probabilities([text], vector.reshape(1, -1), grams)[0]
        i = int(row.argmax())
        return self.labels[i], float(row[i])


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """LogisticRegression's predict_proba from its decision scores: a sigmoid for two classes, else a softmax."""
    if scores.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-scores))
        return np.hstack([1.0 - positive, positive])
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return probabilities
