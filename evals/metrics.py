"""Metric definitions of the evaluation, each a small pure function.

The report quotes DEFINITIONS verbatim, so what a number means is written
once, next to the code that computes it.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from assistant import grounding, nlp
from assistant.answer import Answer, strip_labels, strip_markers

DEFINITIONS = {
    "item coverage": (
        "Share of the article items a complete answer must contain (listed per broad question) that the answer "
        "quotes and cites; for a summary, the sections it cites."
    ),
    "complete answers": "Share of broad questions whose item coverage is at least 0.8.",
    "framing rate": (
        "Share of answers to dev/test questions that quote a framing passage (introduction, a section's lead-in, "
        "conclusion) although the question expects none; list answers count too (their lead-in is framing)."
    ),
    "hit@k": "Share of questions whose expected chunk is among the top k retrieved chunks.",
    "MRR": "Mean over questions of 1/rank of the first expected chunk (0 when not in the top 10).",
    "citation support": (
        "Share of citations whose chunk text equals the source file slice [start:end] "
        "and whose every quoted sentence occurs verbatim in that chunk."
    ),
    "faithfulness": (
        "Share of answer sentences (split at their [n] markers) that the chunk they cite supports: verbatim, "
        "or at least 60% of the sentence's content words in the chunk and every number in it too "
        "(assistant/grounding.py)."
    ),
    "must-cite": "Share of in-scope questions whose answer (markers removed) contains the text the dev set says it must cite.",
    "key-fact token F1": (
        "Token F1 between the answer (markers removed) and the article's own FAQ answer, over stemmed content words."
    ),
    "key-fact embedding similarity": "Cosine similarity of the embeddings of the answer and of the FAQ answer.",
    "abstention accuracy": "Share of off-topic (or near-topic) questions answered with 'the article doesn't cover that'.",
    "false abstention": "Share of in-scope questions that the assistant wrongly declined.",
    "red-flag recall": "Per criterion: share of messages describing it whose answer flags it.",
    "answer cites the criterion": (
        "Per reported criterion: share whose answer (not only the referral) cites the article's passage on it."
    ),
    "false-alarm rate": "Share of messages that describe no red flag but get one flagged.",
    "latency": (
        "Wall-clock of a warm Assistant.ask() per question (p50, p95), next to a bare embed_query() of the same "
        "questions in the same run; the ratio is what the target is set on. Start-up: a fresh process from import "
        "to first answer, next to a fresh process that only loads the embedding model and embeds one text."
    ),
}

_MARKER = re.compile(r"\[(\d+)\]")


def rank_of(ids: list[str], expected: list[str]) -> int | None:
    return next((i for i, chunk_id in enumerate(ids) if chunk_id in expected), None)


def retrieval_scores(ranks: list[int | None]) -> dict[str, float]:
    n = max(len(ranks), 1)
    return {
        "hit@1": sum(r == 0 for r in ranks) / n,
        "hit@3": sum(r is not None and r < 3 for r in ranks) / n,
        "mrr": sum(1.0 / (r + 1) for r in ranks if r is not None) / n,
        "n": len(ranks),
    }


def cited_sentences(answer: Answer) -> list[tuple[str, int]]:
    """(sentence, marker) for every sentence of the answer that carries a marker.

    Sentences without one are the assistant's fixed notices ("The article
    doesn't give doses..."), not claims about the article.
    """
    out = []
    # Lines first: a list's lead-in and each bullet are sentences of their own; bullet labels are
    # the article's titles, not claims.
    for line in strip_labels(answer.text).split("\n"):
        for start, end in nlp.sentence_spans(line):
            sentence = line[start:end]
            markers = _MARKER.findall(sentence)
            if markers:
                out.append((sentence, int(markers[-1])))
    return out


def citation_support(answer: Answer, sources: dict[str, str]) -> tuple[int, int]:
    good = sum(
        sources.get(c.source, "")[c.start : c.end] == c.text and all(q in c.text for q in c.quotes)
        for c in answer.citations
    )
    return good, len(answer.citations)


def faithfulness(answer: Answer) -> tuple[int, int]:
    by_marker = {c.marker: c.text for c in answer.citations}
    pairs = cited_sentences(answer)
    good = sum(grounding.is_supported(s, by_marker.get(m, "")) for s, m in pairs)
    return good, len(pairs)


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = Counter(nlp.stems(strip_markers(prediction))), Counter(nlp.stems(reference))
    common = sum((pred & ref).values())
    if not common:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def percentiles(values_ms: list[float]) -> dict[str, float]:
    if not values_ms:
        return {"p50": float("nan"), "p95": float("nan"), "n": 0}
    arr = np.asarray(values_ms)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)), "n": len(values_ms)}


def ratio(good: float, n: int) -> float | None:
    """good / n, or None when there is nothing to divide (shown as n/a, never as 0%)."""
    return good / n if n else None
