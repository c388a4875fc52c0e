"""Questions as people type them, typos included: the same answer as the question spelled right."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("typed", "spelled"),
    [
        ("how do i releive hip pain from runing", "How do I relieve hip pain from running?"),
        ("hoe do i prevnt hip pain", "How do I prevent hip pain?"),
        ("what can reduce inflamation in my hip", "What can reduce inflammation in my hip?"),
    ],
)
def test_a_misspelled_question_gets_the_answer_of_the_spelled_one(bot, typed, spelled):
    want = bot.ask(spelled)
    got = bot.ask(typed)
    assert not got.abstained
    assert got.shape == want.shape
    assert [c.chunk_id for c in got.citations][:3] == [c.chunk_id for c in want.citations][:3]


def test_a_misspelled_care_question_still_gets_the_referral(bot):
    answer = bot.ask("shud i see a docter")
    assert answer.referral is not None and answer.referral.kind == "care"
    assert not answer.abstained


def test_a_word_the_article_lacks_is_not_turned_into_one_it_has(bot):
    assert bot.pipeline.speller.text("is arnica balm or whey protein good for my glute") == (
        "is arnica balm or whey protein good for my glute"
    )
