"""Extractive answers: every sentence quoted from the article, marked and cited exactly."""

from __future__ import annotations

import functools
import operator
import re

import pytest

from assistant import Answer, texts
from assistant.answer import strip_markers, with_marker

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# Sentences that lean on the one before them (our own reading of the rule in answer.py).
LEANS_BACK = re.compile(r"^(?:however|but|they|these|this|those|it|also|additionally)\b", re.I)


@pytest.fixture(scope="module")
def sources(helpers) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in helpers.CORPUS_DIR.iterdir() if p.suffix in (".txt", ".md")}


@pytest.fixture(scope="module")
def answered(dev_rows, dev_answers) -> list[tuple[dict, Answer]]:
    """Dev questions the assistant answers from the article (not abstentions)."""
    pairs = [(r, dev_answers[r["id"]]) for r in dev_rows if not r.get("abstain")]
    assert all(not a.abstained for _, a in pairs)
    return pairs


def check_answer(answer: Answer, sources: dict[str, str], split_answer) -> list[tuple[str, int]]:
    """All the structural promises of an extractive answer; returns (sentence, marker) pairs."""
    assert answer.answerer == "extractive"
    assert answer.text and answer.citations
    markers = [c.marker for c in answer.citations]
    assert sorted(markers) == list(range(1, len(markers) + 1)), "each marker has exactly one citation"
    by_marker = {c.marker: c for c in answer.citations}
    sentences = []
    for body, tail, marker in split_answer(answer.text):
        assert marker in by_marker, f"[{marker}] has no citation"
        assert not body.endswith((".", "!", "?")), f"marker after the final punctuation: {body!r}"
        citation = by_marker[marker]
        assert body in citation.text, f"{body!r} is not in {citation.chunk_id}"
        quote = next((q for q in citation.quotes if q[: len(body)] == body and len(q) - len(body) <= 3), None)
        assert quote is not None, f"{body!r} is not one of the quotes of [{marker}]"
        # The only change allowed: a quoted lead-in's closing colon becomes a full stop.
        assert quote[len(body) :] == tail or (quote.endswith(":") and tail == "."), (quote, tail)
        sentences.append((quote, marker))
    assert {m for _, m in sentences} == set(by_marker), "a citation no sentence points to"
    for c in answer.citations:
        assert sources[c.source][c.start : c.end] == c.text
        assert c.quotes and all(q in c.text for q in c.quotes)
        assert c.section and c.chunk_id
    return sentences


@pytest.mark.slow  # the whole dev set through the real model
def test_every_answer_sentence_is_a_marked_verbatim_quote(answered, sources, helpers):
    for row, answer in answered:
        try:
            check_answer(answer, sources, helpers.split_answer)
        except AssertionError as exc:
            raise AssertionError(f"{row['id']} {row['question']!r}: {exc}") from exc


def test_headline_ice_question(bot, sources, helpers):
    answer = bot.ask("How long should I ice my hip?")
    assert not answer.abstained
    assert "15-20 minutes" in answer.text
    check_answer(answer, sources, helpers.split_answer)
    assert answer.citations[0].section == helpers.SECTION_TREATMENT
    assert answer.citations[0].chunk_id == helpers.ICE_CHUNK
    ice_sentence = next(q for q in answer.citations[0].quotes if "15-20 minutes" in q)
    assert strip_markers(answer.text).count(ice_sentence) == 1


@pytest.mark.slow  # the whole dev set through the real model
def test_answers_quote_one_to_four_sentences(answered, bot):
    limit = bot.settings.max_sentences
    assert limit == 4
    for row, answer in answered:
        if answer.shape != "specific":
            continue  # lists and summaries quote every item (tests/test_compose.py)
        quotes = [q for c in answer.citations for q in c.quotes]
        n = len(re.findall(r" \[\d+\]", answer.text))
        assert n == len(quotes), row["id"]
        # The lean-back rule may add the sentence a quoted "However, these ..." leans on.
        leaning = sum(1 for q in quotes if LEANS_BACK.match(q))
        assert 1 <= n <= limit + min(leaning, 1), f"{row['id']}: {n} sentences"
        assert len(set(quotes)) == len(quotes), f"{row['id']}: a sentence quoted twice"


def test_lean_back_sentence_brings_its_predecessor(bot):
    answer = bot.ask("Should anti-inflammatories be used sparingly?")
    quotes = [q for c in answer.citations for q in c.quotes]
    assert "However, these should be used sparingly and under the guidance of a healthcare professional." in quotes
    # ... and never alone: the sentence it leans on is quoted first, from the same chunk.
    first = "Over-the-counter NSAIDs like ibuprofen can help reduce pain and inflammation."
    assert first in quotes
    text = strip_markers(answer.text)
    assert text.index(first) < text.index("However, these should")


def test_a_caveat_travels_with_the_sentence_it_restricts(bot):
    answer = bot.ask("can I take ibuprofen for hip pain?")
    text = strip_markers(answer.text)
    first = "Over-the-counter NSAIDs like ibuprofen can help reduce pain and inflammation."
    caveat = "However, these should be used sparingly and under the guidance of a healthcare professional."
    assert first in text and caveat in text and text.index(first) < text.index(caveat)


def test_a_leading_faq_answer_is_quoted_whole(bot):
    """The FAQ's answer is the article's own, short answer to the question: all of it, not its best sentence."""
    answer = bot.ask("what shoes are best to prevent hip pain?")
    faq = answer.citations[0]
    assert faq.chunk_id.endswith("faqs/q5-best-shoes-preventing-hip-pain")
    assert len(faq.quotes) == len(bot.sentences.rows_by_chunk[faq.chunk_id]) == 3


@pytest.mark.slow  # the whole dev set through the real model
def test_no_invented_numbers(dev_rows, dev_answers):
    for row in dev_rows:
        answer = dev_answers[row["id"]]
        cited = " ".join(c.text for c in answer.citations)
        for number in NUMBER.findall(strip_markers(answer.text)):
            assert number in cited, f"{row['id']}: {number!r} is not in the cited text"


@pytest.mark.slow  # the whole dev set through the real model
def test_quotes_keep_article_order_within_a_citation(answered):
    for row, answer in answered:
        for c in answer.citations:
            positions = [c.text.index(q) for q in c.quotes]
            assert positions == sorted(positions), row["id"]


def test_lead_in_colon_becomes_a_full_stop():
    """A quoted lead-in must not end in a colon that promises a list the answer never gives."""
    assert with_marker("Here are some strategies to keep your hips happy and healthy:", 1) == (
        "Here are some strategies to keep your hips happy and healthy [1]."
    )


def test_marker_goes_before_final_punctuation():
    assert with_marker("Rest first.", 2) == "Rest first [2]."
    assert with_marker("Is it bad?", 1) == "Is it bad [1]?"
    assert with_marker("He said \u201crest.\u201d", 3) == "He said \u201crest [3].\u201d"
    assert with_marker("No punctuation", 1) == "No punctuation [1]"


QUESTIONS = [
    "How long should I ice my hip?",
    "Which foods calm inflammation?",
    "How many mg of ibuprofen should I take for hip pain?",
    "What's the capital of Peru?",
    "",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_stream_sums_to_ask(bot, question):
    pieces = list(bot.stream(question))
    assert pieces and all(isinstance(p, Answer) for p in pieces)
    streamed = functools.reduce(operator.add, pieces)
    asked = bot.ask(question)
    assert streamed.text == asked.text
    assert streamed.citations == asked.citations
    assert streamed.abstained == asked.abstained
    assert streamed.to_dict() == asked.to_dict()
    assert sum(pieces, Answer()).to_dict() == asked.to_dict()


def test_stream_yields_sentence_by_sentence(bot):
    pieces = [p for p in bot.stream("How long should I ice my hip?") if p.text]
    assert len(pieces) >= 2
    assert all(re.search(r"\[\d+\][.!?]?$", p.text) for p in pieces)
    assert pieces[0].citations, "the first sentence carries its citation"


def test_batch_returns_answers(bot):
    answers = bot.chain.batch(
        [
            {"question": "How long should I ice my hip?"},
            {"question": "What are some anti-inflammatory foods?", "history": []},
            {"question": "   "},
        ]
    )
    assert len(answers) == 3 and all(isinstance(a, Answer) for a in answers)
    assert "15-20 minutes" in answers[0].text
    assert "omega-3" in answers[1].text
    assert answers[2].text == texts.EMPTY_QUESTION and answers[2].abstained
    assert answers[0].to_dict() == bot.ask("How long should I ice my hip?").to_dict()


@pytest.mark.parametrize(
    ("question", "faq"),
    [
        ("can i run through hip pain", "q4-continue-running-hip-pain"),
        ("how many days off do I need when my hip hurts after runs", "q2-long-rest-hip-pain-running"),
    ],
)
def test_a_question_put_like_a_faq_gets_that_faqs_answer(bot, question, faq):
    """The FAQ's own question is matched too: the whole pair was less near than the article's generic
    paragraphs, and "can i run through hip pain" was answered with the conclusion."""
    answer = bot.ask(question)
    assert answer.shape == "specific"
    assert answer.citations[0].chunk_id.endswith(f"faqs/{faq}")
    assert "In conclusion" not in answer.text


@pytest.mark.parametrize(
    ("question", "chunk"),
    [
        (
            "My running buddy says I should just push through the hip pain. Good idea?",
            "faqs/q4-continue-running-hip-pain",
        ),
    ],
)
def test_everyday_wording_finds_the_passage_through_its_questions(bot, question, chunk):
    """Questions each passage answers (``data/passage_questions.jsonl``) are matched like the FAQ's: "push
    through" is nowhere in the article, and the whole passages sat below the introduction and surgery."""
    answer = bot.ask(question)
    assert answer.citations and answer.citations[0].chunk_id.endswith(chunk)


def test_every_passage_question_points_at_a_passage_of_the_article(bot):
    from assistant import datafiles

    rows = datafiles.jsonl("passage_questions.jsonl")
    assert {r["chunk_id"] for r in rows} <= set(bot.documents)
    assert all(r["questions"] and all(q.strip() for q in r["questions"]) for r in rows)
    assert len(bot.ranker.questions.ids) == sum(len(r["questions"]) for r in rows) + 5  # and the five FAQs


def test_faq_questions_do_not_decide_a_lists_sections(bot):
    answer = bot.ask("How do I relieve hip pain from running?")
    assert answer.shape == "list"
    assert all("/faqs/" not in item.chunk_id for item in answer.items[:8])


def test_numpy_blas_runs_on_the_threads_the_settings_give(bot):
    """Idle BLAS threads spinning beside the embedding model more than doubled a warm ask on a large corpus."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas, "numpy ships a BLAS"
    assert all(lib["num_threads"] == bot.settings.blas_threads == 1 for lib in blas)
