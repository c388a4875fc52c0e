"""Scope from what a request asks for (issue 13): tasks, other subjects, answer types the article lacks.

Our own phrasings, none from evals/data: the classifiers are trained on
``assistant/data/scope_examples.jsonl`` and tuned on ``evals/data/scope_dev.jsonl``.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant import texts
from assistant.scope import kinds

TASKS = [
    "Translate 'my hip hurts after running' into German please.",
    "Write a Python script that logs my weekly running mileage to a CSV file.",
    "compose a short poem about my aching hip",
    "Draft an email to my boss saying I'll be late because of physio",
    "Pretend you're a medieval knight and tell me about your horse",
    "Summarise this paragraph: 'The council voted to resurface the running track next spring.'",
]

# Question, the answer type the article lacks, the passage it should quote instead.
MISSING = [
    ("What pace per kilometre do I need to hold for a 3:30 marathon?", "pace", "5-gradual-progression"),
    ("Which brand of omega-3 capsules would you recommend?", "brand", "1-anti-inflammatory-foods"),
    ("which brand of running shoe is best for hip pain", "brand", "q5-best-shoes-preventing-hip-pain"),
    ("How much does a session with a physical therapist cost?", "price", "2-physical-therapy"),
    ("Give me a week-by-week return-to-running schedule", "plan", None),
    ("Which physio in Leeds is best for runners' hips?", "provider", None),
    ("What percentage of runners end up needing surgery?", "statistic", "8-surgery"),
]

# On the article's subject though the classifiers or the word lists once said otherwise: words about the request
# itself ("mentioned", "list"), a shared vocabulary the off-topic classifier missed, a three-letter typo.
ON_SUBJECT = [
    ("is yoga mentioned somewhere in the text", "yoga"),
    ("list the causes from the article", "Overuse"),
    ("how should I choose shoes for my foot type and running style", "foot type"),
    ("hpi pain from runnig, how do i fix it", "hip pain"),
    # Everyday words for the article's own subject ("hurts") name no other subject.
    ("whats the first thing to do once my hip starts hurting after a run", "rest"),
    ("my son says his hip hurts after track practice, what should he do first", "rest"),
    # Close to the FAQ on shoes and naming nothing the article lacks: not a request for a brand.
    ("best running shoes for hip pain", "support, cushioning"),
]

DEFINITIONS = [
    ("What is overstriding and why does it matter?", "overstriding"),
    ("what's overpronation?", "overpronation"),
    ("What is the IT band?", "IT band"),
    ("what's a labral tear", "labral tears"),
]


@pytest.mark.parametrize("request_text", TASKS)
def test_tasks_get_a_short_refusal_that_says_what_the_assistant_does(bot, request_text):
    answer = bot.ask(request_text)
    assert answer.abstained
    assert answer.text == texts.TASK_REFUSAL
    assert not answer.citations


@pytest.mark.parametrize(("question", "kind", "nearest"), MISSING)
def test_a_missing_answer_type_is_named_and_the_nearest_passage_quoted(bot, question, kind, nearest):
    answer = bot.ask(question)
    assert answer.abstained
    what = texts.SPECIFIC_KINDS[kind]
    assert answer.text.startswith(f"The article doesn't give {what}."), answer.text
    cited = {c.chunk_id.rsplit("/", 1)[-1] for c in answer.citations}
    assert len(cited) <= 1, "what the article does say is one passage, not several loosely related ones"
    if nearest:
        assert cited == {nearest}, answer.text


def test_a_drug_the_article_never_names_is_said_so_with_what_it_says_on_nsaids(bot):
    answer = bot.ask("advil or aleve, which is better for a sore hip?")
    assert answer.abstained
    assert answer.text.startswith("The article doesn't mention advil or aleve."), answer.text
    assert [c.chunk_id.rsplit("/", 1)[-1] for c in answer.citations] == ["4-anti-inflammatory-medications"]


@pytest.mark.parametrize("question", ["ice or heat?", "is ice or heat better for my hip?"])
def test_a_choice_the_article_half_covers_says_what_it_leaves_out_and_quotes_the_other_half(bot, question):
    """The article says ice and never heat: the answer says so and quotes the ice, even when the question is
    too short to embed near the passage ("ice or heat?")."""
    answer = bot.ask(question)
    assert answer.text.startswith("The article doesn't mention heat. Here is what it does say."), answer.text
    assert [c.chunk_id.rsplit("/", 1)[-1] for c in answer.citations] == ["1-rest-and-ice"]


@pytest.mark.parametrize(
    "question",
    [
        "My lower back aches after deadlifts, what should I do about it?",
        "how should I tape a sprained thumb",
        "my hip hurts at the bottom of a heavy barbell squat, how do I fix my powerlifting form?",
    ],
)
def test_another_subject_is_not_answered_from_the_hip_article(bot, question):
    answer = bot.ask(question)
    assert answer.abstained
    assert answer.text.startswith(texts.NOT_COVERED)
    assert not answer.citations


@pytest.mark.parametrize(("question", "term"), DEFINITIONS + ON_SUBJECT)
def test_terms_the_article_uses_and_requests_on_its_subject_are_answered_from_it(bot, question, term):
    """Definitions get the sentence that uses the term; the other requests the passage they ask about."""
    answer = bot.ask(question)
    assert not answer.abstained, answer.text
    assert term.lower() in answer.text.lower()
    assert answer.citations


def test_a_red_flag_reported_inside_a_role_play_is_answered_from_the_article(bot):
    answer = bot.ask("Pretend you're a pirate. Arr, me hip be so bad I can't put any weight on it at all.")
    assert "severe_pain" in answer.red_flags
    assert not answer.abstained
    assert answer.citations[0].chunk_id.endswith("2-severe-pain")
    assert answer.referral is not None


def test_everyday_questions_close_to_the_task_and_type_examples_are_still_answered(bot):
    for question in (
        "which shoes should I look for so my hips stop hurting?",
        "can I take ibuprofen for it?",
        "how long do I ice it for?",
        "should I see a physio?",
        "how fast can I build my mileage back up?",
    ):
        answer = bot.ask(question)
        assert not answer.abstained, (question, answer.text)


def test_an_unknown_label_in_the_examples_fails_at_start_listing_the_allowed_ones(monkeypatch):
    rows = [{"text": "write me a sonnet", "label": "poetry"}]
    monkeypatch.setattr(kinds, "load_jsonl", lambda name: rows if name == kinds.EXAMPLES else [])
    with pytest.raises(ValueError, match=r"poetry.*allowed: article, task"):
        kinds.load_examples()


def test_every_example_label_is_a_known_kind_and_each_kind_has_examples():
    rows = kinds.load_jsonl(kinds.EXAMPLES)
    labels = {r["label"] for r in rows}
    assert labels <= set(kinds.KINDS)
    assert set(kinds.KINDS) - {"article"} <= labels


def test_ngram_features_match_scikit_learn():
    """Questions are turned into n-grams without scikit-learn (it is needed to fit, not to answer); the
    features must be exactly TfidfVectorizer's (char_wb 2-5, sublinear tf, idf, l2)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from assistant.classify import NgramFeatures
    from assistant.scope.kinds import load_examples

    texts = [r["text"] for r in load_examples()]
    ours = NgramFeatures.fit(texts)
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True).fit(
        [t.lower() for t in texts]
    )
    probe = [*texts[:50], "Tinglyness  down my LEG\tx", "a", "", "f\u0435ver 38.7", "I can't walk!!"]
    want = reference.transform([t.lower() for t in probe]).toarray()
    np.testing.assert_allclose(ours.transform(probe), want, atol=1e-12)
