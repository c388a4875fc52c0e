"""Ranking chunks: hybrid retrieval on our own paraphrases, fusion vs. dense vs. BM25, follow-ups."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.documents import Document

from assistant.embeddings import embed_query

P = "hip-pain-from-running/"

# Our own paraphrases (not from evals/data), at least one per section of the article.
OWN_QUESTIONS = [
    ("Besides fitness, what else is running good for?", "introduction/p1"),
    ("Can a previous lower-back injury make hip pain come back?", "understanding-causes/5-previous-injuries"),
    ("Does landing with my foot rolling inward strain the hip?", "understanding-causes/3-poor-running-form"),
    (
        "Why does my hip get sore if I skip stretching after a run?",
        "understanding-causes/4-inadequate-warm-up-or-cool-down",
    ),
    (
        "Are lunges and squats useful for avoiding hip problems?",
        "prevention-best-medicine/1-strengthen-your-hip-muscles",
    ),
    ("By what percentage can I raise my weekly mileage safely?", "prevention-best-medicine/5-gradual-progression"),
    ("What should I look at when a coach films my stride?", "prevention-best-medicine/3-optimize-your-running-form"),
    ("How many minutes should a cold pack stay on a sore hip?", "treatment-options/1-rest-and-ice"),
    (
        "Can a massage ball loosen the muscles around my hip?",
        "treatment-options/3-foam-rolling-and-self-myofascial-release",
    ),
    ("Are swimming and cycling good substitutes while my hip recovers?", "treatment-options/5-cross-training"),
    ("When is an operation needed for hip impingement?", "treatment-options/8-surgery"),
    ("Do custom insoles correct alignment problems that stress the hip?", "treatment-options/6-orthotics"),
    ("Which nuts and seeds calm inflammation?", "role-nutrition/1-anti-inflammatory-foods"),
    ("Does chicken or tofu help rebuild muscle after an injury?", "role-nutrition/2-protein"),
    ("Is calcium or vitamin D important for my joints?", "role-nutrition/3-vitamins-and-minerals"),
    ("What should I drink to keep my joints lubricated?", "role-nutrition/4-hydration"),
    (
        "How can breathing exercises or meditation help an injured runner?",
        "psychological-aspect/3-mindfulness-and-relaxation-techniques",
    ),
    ("Should I set small goals to stay motivated while I can't run?", "psychological-aspect/1-stay-positive"),
    ("Who can I talk to if being injured is getting me down?", "psychological-aspect/2-seek-support"),
    (
        "My hip is warm and red and I have a temperature, what does that suggest?",
        "seek-professional-help/3-signs-of-infection",
    ),
    (
        "Pins and needles in my leg along with hip pain, should a professional check it?",
        "seek-professional-help/4-numbness-or-tingling",
    ),
    ("Will jogging for decades give me osteoarthritis in the hip?", "faqs/q1-running-cause-hip-arthritis"),
    ("Is it a bad idea to keep running when my hip hurts?", "faqs/q4-continue-running-hip-pain"),
    ("What's the overall takeaway, do patience and consistency matter for recovery?", "conclusion/p1"),
]


def test_own_questions_cover_every_section(bot):
    sections = {bot.documents[P + chunk].metadata["section"] for _, chunk in OWN_QUESTIONS}
    assert sections == {d.metadata["section"] for d in bot.documents.values()}
    assert len(OWN_QUESTIONS) >= 12


@pytest.mark.parametrize(("question", "chunk"), OWN_QUESTIONS, ids=[c for _, c in OWN_QUESTIONS])
def test_expected_chunk_in_hybrid_top3(bot, question, chunk):
    hits = bot.ranker.rank(question, embed_query(bot.embeddings, question), mode="hybrid", k=3)
    top = [h.chunk_id for h in hits]
    assert P + chunk in top, f"{question!r}: got {top}"


def _hit_at_1(bot, rows, mode):
    hits = 0
    for row in rows:
        vector = embed_query(bot.embeddings, row["question"])
        ranked = bot.ranker.rank(row["question"], vector, mode=mode, k=1)
        hits += ranked[0].chunk_id in row["expect"]
    return hits


@pytest.mark.slow  # the whole dev set through the real model
def test_fusion_matches_or_beats_dense_and_beats_bm25(bot, dev_rows):
    rows = [r for r in dev_rows if not r.get("abstain")]
    assert len(rows) >= 90
    scores = {mode: _hit_at_1(bot, rows, mode) for mode in ("hybrid", "dense", "bm25")}
    report = ", ".join(f"{m} {n}/{len(rows)} ({n / len(rows):.0%})" for m, n in scores.items())
    assert scores["hybrid"] >= scores["dense"], f"hit@1 on dev: {report}"
    assert scores["hybrid"] > scores["bm25"], f"hit@1 on dev: {report}"


def test_modes_rank_differently(bot):
    # The three modes are really different rankers (a mode switch that did nothing would pass the test above).
    q = "Is corticosteroid an option?"
    vector = embed_query(bot.embeddings, q)
    bm25 = bot.ranker.rank(q, vector, mode="bm25", k=3)
    dense = bot.ranker.rank(q, vector, mode="dense", k=3)
    assert all(h.dense == 0.0 for h in bm25)
    assert all(h.lexical == 0.0 for h in dense)
    assert all(h.score == h.dense for h in dense)
    assert bm25[0].chunk_id == P + "treatment-options/7-corticosteroid-injections"


def test_retrieve_returns_documents_with_metadata(bot):
    docs = bot.retrieve("What can a physical therapist do for my hip?", k=4)
    assert len(docs) == 4
    assert all(isinstance(d, Document) for d in docs)
    ids = [d.metadata["chunk_id"] for d in docs]
    assert len(set(ids)) == 4
    assert ids[0] == P + "treatment-options/2-physical-therapy"
    for d in docs:
        assert d.metadata["section"] == bot.documents[d.metadata["chunk_id"]].metadata["section"]
        assert d.page_content == bot.documents[d.metadata["chunk_id"]].page_content
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    assert len(bot.retrieve("What can a physical therapist do for my hip?", k=2)) == 2


def test_retriever_property_is_a_langchain_retriever(bot):
    docs = bot.retriever.invoke("How long should I ice my hip?")
    assert len(docs) == bot.settings.top_k
    assert docs[0].metadata["chunk_id"] == P + "treatment-options/1-rest-and-ice"


def _follow_up_top3(bot, row, with_history: bool) -> tuple[bool, str]:
    inputs = {"question": row["question"], "history": row["history"] if with_history else None}
    turn = bot.pipeline.prepare(inputs)
    return row["expect"][0] in [h.chunk_id for h in turn.hits[:3]], turn.query


def test_follow_up_condensation_helps(bot, helpers):
    rows = helpers.load_jsonl("followups.jsonl")
    assert len(rows) >= 10
    with_history = [_follow_up_top3(bot, r, True) for r in rows]
    without = [_follow_up_top3(bot, r, False) for r in rows]
    n_with = sum(ok for ok, _ in with_history)
    n_without = sum(ok for ok, _ in without)
    report = f"top-3 with history {n_with}/{len(rows)}, without {n_without}/{len(rows)}"
    assert n_with >= 0.8 * len(rows), report
    assert n_with > n_without, report
    # Without history the query is the question itself; with history at least the misses were condensed.
    assert all(q == r["question"] for (_, q), r in zip(without, rows, strict=True))
    for (ok, query), (ok_alone, _), row in zip(with_history, without, rows, strict=True):
        if ok and not ok_alone:
            assert query != row["question"] and query.endswith(row["question"])


def test_a_follow_up_that_changes_the_subject_is_answered_on_its_own(bot):
    history = [{"role": "user", "content": "how long should I rest?"}, {"role": "assistant", "content": "..."}]
    answer = bot.ask("and what should I eat?", history=history)
    assert answer.citations and answer.citations[-1].section == "The Role of Nutrition in Hip Pain Recovery"
    assert "duration of rest" not in answer.text, answer.text


def test_bm25_scores_equal_rank_bm25_okapi(bot, dev_rows):
    """The inverted index scores exactly as rank_bm25's BM25Okapi (on which the fusion weights were tuned),
    repeated and unknown tokens included, while costing only the chunks that hold a question's terms."""
    from rank_bm25 import BM25Okapi

    from assistant import nlp
    from assistant.retrieval import Bm25, bm25_tokens

    tokens = bm25_tokens(bot.ranker.documents)
    reference, ours = BM25Okapi(tokens), Bm25(tokens)
    queries = [nlp.stems(nlp.expand(row["question"])) for row in dev_rows]
    queries += [["ice", "ice"], ["zzzunknown"], [], ["hip", "pain", "run"]]
    for query in queries:
        np.testing.assert_allclose(ours.scores(query), reference.get_scores(query), rtol=1e-12, atol=1e-12)
    assert ours.vocabulary == set(reference.idf)
