"""What form a question asks for (list, summary, definition or specific): a logistic regression over its
embedding, trained on the example questions in ``data/answer_shapes.jsonl``, and the summary words."""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np

from .. import nlp
from ..classify import cached_arrays, cached_vectors, training_key
from .structure import ArticleView, Shape, load_examples
from .words import ASKING_STEMS, FORM_STEMS, GENERIC_STEMS, SUMMARY_REQUEST_STEMS

_CLAUSE_END = re.compile(r"[,:;.?!]")


class ShapeReader(ArticleView):
    """The shape classifier and the summary checks of ``Composer``."""

    LIST_MIN_PROBABILITY = 0.45
    """The classifier must give 'list' at least this (and more than any other shape)."""

    SUMMARY_MIN_SIMILARITY = 0.6
    """A summary is only given to questions this close to an example ("Summarize the article"); other
    texts the classifier calls 'summary' (a tweet to write, a paragraph to summarise) are not about it."""

    @cached_property
    def examples(self) -> tuple[np.ndarray, np.ndarray]:
        """The example questions' vectors and shapes, embedded on first use."""
        examples = load_examples()
        texts = [e["text"] for e in examples]
        vectors = cached_vectors(self.embeddings, texts, self.cache_dir, self.model_key, "answer-shapes")
        return vectors, np.array([e["shape"] for e in examples])

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

    def shape_probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """The classifier's softmax, computed directly: sklearn's per-call checks cost more than the maths."""
        coef, intercept, classes = self._weights
        logits = coef @ vector + intercept
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return {c: float(p) for c, p in zip(classes, probs, strict=True)}

    def asks_summary(self, stems: frozenset[str], vector: np.ndarray, probs: dict[str, float] | None = None) -> bool:
        """Does the question ask for a summary (its words, or the classifier and a near example)?"""
        probs = probs if probs is not None else self.shape_probabilities(vector)
        shape = max(probs, key=probs.__getitem__)
        return self.asks_for_summary(stems) or (
            shape == "summary" and self.nearest_example(vector, "summary") >= self.SUMMARY_MIN_SIMILARITY
        )

    OPENING_WORDS = 4
    """How many words of a question's first clause may open it with a summary request ("Can you sum up ...")."""

    def opens_with_summary(self, question: str) -> bool:
        """Does the question open by asking for a summary outright (``SUMMARY_REQUEST_STEMS``)? "In a nutshell,
        what should a runner with sore hips know?", "Summarize the most important advice for a marathoner whose
        hip keeps flaring up": what follows says whom it is for, which the summary examples cannot all hold. Only
        of the article or its subject: "summarize the plot of the movie Rocky" is another task."""
        opening = _CLAUSE_END.split(question.strip(), maxsplit=1)[0].split()[: self.OPENING_WORDS]
        if not set(nlp.stems(" ".join(opening))) & SUMMARY_REQUEST_STEMS:
            return False
        return bool(set(nlp.stems(question)) & (self.subject_stems | {"articl"}))

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
        asked = {w for w in stems if not self._is_topic_word(w) and w not in GENERIC_STEMS}
        words, distinctive = self.summary_words
        # Words that only ask or point at the article ("gimme", "pls", "what do I need to know") ask for nothing
        # else: "quick recap pls, hip pain + running, what do i need to know". A word that gives a definition its
        # form tells no summary either: "Explain what an overuse injury is."
        return bool(asked & distinctive - FORM_STEMS) and asked - ASKING_STEMS <= words

    def _is_topic_word(self, stem: str) -> bool:
        """Is `stem` a form of one of the article's topic words: "treat" of "treatment", but "inflation" is not
        "inflammation" though their first five letters agree (``structure.prefixes``)."""
        if any(
            t.startswith(stem) or stem.startswith(t) or stem[:6] == t[:6]
            for t in self._topic_by_prefix.get(stem[:5], ())
        ):
            return True
        # A topic word shorter than five letters starts its longer forms: "run" of "runner".
        return any(stem[:n] in self._topic_by_prefix.get(stem[:n], ()) for n in (3, 4))

    @cached_property
    def _topic_by_prefix(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for t in self.topic_terms:
            out[t[:5]] = (*out.get(t[:5], ()), t)
        return out
