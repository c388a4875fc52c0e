"""The report's retrieval and answer sections: hit@k and MRR, citation support, faithfulness, must-cite,
key facts, abstention per set, and the answerers side by side."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from assistant.answer import strip_markers
from assistant.core import Assistant
from assistant.embeddings import embed_query, embed_texts
from assistant.history import condense, normalize_history

from . import metrics
from .metrics import ratio
from .progress import Progress

MODES = ("hybrid", "dense", "bm25")


def retrieval(bot: Assistant, in_scope: dict, followups: list[dict], bar: Progress) -> dict:
    """Hit@k and MRR per question set and retrieval mode, and follow-ups with and without their history."""
    out: dict = {}
    for name, rows in in_scope.items():
        bar.stage(f"retrieval: {name}")
        vectors = embed_texts(bot.embeddings, [r["question"] for r in rows])
        ranks: dict[str, list] = {m: [] for m in MODES}
        for row, vector in zip(rows, vectors, strict=True):
            for mode in MODES:
                ids = [h.chunk_id for h in bot.ranker.rank(row["question"], vector, mode=mode, k=10)]
                ranks[mode].append(metrics.rank_of(ids, row["expect"]))
            bar.step()
        out[name] = {m: metrics.retrieval_scores(r) for m, r in ranks.items()}
    bar.stage("retrieval: follow-ups")
    ranks = {"with history": [], "without history": []}
    for row in followups:
        history = normalize_history(row["history"], limit=bot.settings.max_question_chars, max_messages=40)
        for label, query in (
            ("with history", condense(row["question"], history)),
            ("without history", row["question"]),
        ):
            ids = [h.chunk_id for h in bot.ranker.rank(query, embed_query(bot.embeddings, query), k=10)]
            ranks[label].append(metrics.rank_of(ids, row["expect"]))
        bar.step()
    out["follow-ups (hybrid)"] = {k: metrics.retrieval_scores(v) for k, v in ranks.items()}
    return out


def answers(
    bots: dict[str, Assistant],
    modes: tuple[str, ...],
    question_sets: dict[str, list[dict]],
    holdout: list[dict],
    sources: dict[str, str],
    bar: Progress,
    *,
    fast: bool,
) -> tuple[dict, dict]:
    """Citation support, faithfulness, must-cite and key facts per retrieval mode; abstention per set."""
    answers: dict = {}
    abstention: dict = {}
    for mode in modes:
        bot = bots[mode]
        label = f"{bot.settings.answerer} + {mode}"
        tally: Counter = Counter()
        f1, sims = [], []
        for set_name, rows in [*question_sets.items(), *([("held-out", holdout)] if holdout else [])]:
            bar.stage(f"answers: {label}: {set_name}")
            counts: Counter = Counter()
            for row in rows:
                answer = bot.ask(row["question"])
                bar.step()
                good, n = metrics.citation_support(answer, sources)
                tally["cited"] += n
                tally["cited_ok"] += good
                good, n = metrics.faithfulness(answer)
                tally["sentences"] += n
                tally["sentences_ok"] += good
                should_abstain = row.get("abstain") or row.get("answerable") is False
                if should_abstain:
                    kind = row.get("kind", "off_topic")
                    counts[f"{kind}_n"] += 1
                    counts[f"{kind}_ok"] += answer.abstained
                    continue
                counts["in_scope_n"] += 1
                counts["false_abstain"] += answer.abstained
                tally["in_scope"] += 1
                tally["false_abstain"] += answer.abstained
                if "must_cite" in row:
                    tally["must_cite_n"] += 1
                    tally["must_cite_ok"] += row["must_cite"].rstrip(".") in strip_markers(answer.text)
                if "reference" in row:
                    f1.append(metrics.token_f1(answer.text, row["reference"]))
                    sims.append(_similarity(bot, strip_markers(answer.text), row["reference"]))
            if mode == modes[0] or fast:
                abstention[set_name] = _abstention(counts)
        answers[label] = {
            "citation support": ratio(tally["cited_ok"], tally["cited"]),
            "faithfulness": ratio(tally["sentences_ok"], tally["sentences"]),
            "must-cite": ratio(tally["must_cite_ok"], tally["must_cite_n"]),
            "key-fact token F1 (FAQ)": float(np.mean(f1)) if f1 else None,
            "key-fact embedding similarity (FAQ)": float(np.mean(sims)) if sims else None,
            "false abstention": ratio(tally["false_abstain"], tally["in_scope"]),
            "citations": tally["cited"],
            "sentences": tally["sentences"],
        }
    return answers, abstention


def comparison_sample(dev: list[dict], faq: list[dict], sample: int) -> list[dict]:
    """The FAQ questions asked verbatim, then in-scope dev questions spread over the set, `sample` in all."""
    verbatim = [q for q in faq if q["form"] == "verbatim"]
    rest = [q for q in dev if not q.get("abstain")]
    step = max(len(rest) // max(sample - len(verbatim), 1), 1)
    return (verbatim + rest[::step])[:sample]


def compare_answerers(
    base: Assistant, answerers: tuple[str, ...], rows: list[dict], sources: dict[str, str], bar: Progress
) -> dict:
    """Each answerer on the same questions, extractive first: quality, fallbacks and latency."""
    out = {}
    for name in ("extractive", *[a for a in answerers if a != "extractive"]):
        bot = base if name == base.settings.answerer else Assistant(base.settings, answerer=name)
        bar.stage(f"answerers: {name}")
        tally: Counter = Counter()
        f1, times = [], []
        for row in rows:
            started = time.perf_counter()
            answer = bot.ask(row["question"])
            times.append((time.perf_counter() - started) * 1000)
            bar.step()
            good, n = metrics.faithfulness(answer)
            tally["sentences"] += n
            tally["sentences_ok"] += good
            good, n = metrics.citation_support(answer, sources)
            tally["cited"] += n
            tally["cited_ok"] += good
            tally["written_by_it"] += answer.answerer == name
            if "must_cite" in row:
                tally["must_cite_n"] += 1
                tally["must_cite_ok"] += row["must_cite"].rstrip(".") in strip_markers(answer.text)
            if "reference" in row:
                f1.append(metrics.token_f1(answer.text, row["reference"]))
        stats = getattr(bot.pipeline.answerer, "stats", Counter())
        out[name] = {
            "questions": len(rows),
            "answered by it (no fallback)": ratio(tally["written_by_it"], len(rows)),
            "faithfulness": ratio(tally["sentences_ok"], tally["sentences"]),
            "citation support": ratio(tally["cited_ok"], tally["cited"]),
            "must-cite": ratio(tally["must_cite_ok"], tally["must_cite_n"]),
            "key-fact token F1 (FAQ)": float(np.mean(f1)) if f1 else None,
            "latency_ms": metrics.percentiles(times),
            "model sentences": dict(stats),
        }
    return out


def verdict(answerers: dict, default: str) -> str:
    """A plain sentence: which answerer is better on these questions, and whether the default matches."""

    def score(item):
        a = item[1]
        return (a["must-cite"] or 0) + (a["key-fact token F1 (FAQ)"] or 0) + (a["faithfulness"] or 0)

    ranked = sorted(answerers.items(), key=score, reverse=True)
    (best, b), rest = ranked[0], ranked[1:]
    parts = []
    for name, a in rest:
        speed = a["latency_ms"]["p50"] / b["latency_ms"]["p50"] if b["latency_ms"]["p50"] else float("nan")
        parts.append(
            f"against {name}: must-cite {_fmt(b['must-cite'])} vs {_fmt(a['must-cite'])}, "
            f"FAQ token F1 {_fmt(b['key-fact token F1 (FAQ)'], pct=False)} vs {_fmt(a['key-fact token F1 (FAQ)'], pct=False)}, "
            f"{name} answered without falling back on {_fmt(a['answered by it (no fallback)'])} of questions "
            f"and took {speed:.1f}x as long at p50"
        )
    match = "matches" if best == default else f"does not match (default is '{default}')"
    return f"Better on these questions: **{best}** ({'; '.join(parts)}). The default answerer {match}."


def _fmt(value, pct: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if pct else f"{value:.2f}"


def _similarity(bot: Assistant, a: str, b: str) -> float:
    if not a.strip():
        return 0.0
    va, vb = embed_texts(bot.embeddings, [a, b])
    return float(va @ vb)


def _abstention(counts: Counter) -> dict:
    return {
        "off-topic accuracy": ratio(counts["off_topic_ok"], counts["off_topic_n"]),
        "near-topic accuracy": ratio(counts["near_topic_ok"], counts["near_topic_n"]),
        "false abstention": ratio(counts["false_abstain"], counts["in_scope_n"]),
        "n": {
            "off_topic": counts["off_topic_n"],
            "near_topic": counts["near_topic_n"],
            "in_scope": counts["in_scope_n"],
        },
    }
