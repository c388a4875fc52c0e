"""Abstention: the assistant says so when the article does not cover a question."""

from __future__ import annotations

import re

import pytest
from fixtures.common import HEADINGS, load_jsonl

from assistant import texts

# Our own questions (not from evals/data) the article does not answer.
OWN_OFF_TOPIC = [
    "How do I bake chocolate chip cookies?",
    "What is the best programming language for data science?",
    "What's the exchange rate between euros and dollars?",
]
OWN_NEAR_TOPIC = [
    "My knee aches after long bike rides, what should I do?",  # knee pain from cycling
    "What's the maximum ibuprofen dose per day for a runner?",  # a dose the article never gives
    "How much turmeric should I take for inflammation?",  # a supplement it never mentions
    "What's a good stretch for a stiff neck after sleeping?",  # another body part
    "Can a CT scan show why my hip hurts?",  # imaging is not covered
    "Which Asics model is best for runners with sore hips?",  # brands are not covered
    "How do I treat a sprained wrist from a fall while jogging?",
    "Is it safe to run while pregnant with hip pain?",
]


def _accuracy_report(rows, answers, want_abstain: bool) -> tuple[int, list[str]]:
    wrong = [f"{r['id']} {r['question']!r}" for r in rows if answers[r["id"]].abstained != want_abstain]
    return len(rows) - len(wrong), wrong


@pytest.mark.slow  # the whole dev set through the real model
def test_every_dev_abstain_question_abstains(dev_rows, dev_answers):
    rows = [r for r in dev_rows if r.get("abstain")]
    assert len(rows) >= 30
    right, wrong = _accuracy_report(rows, dev_answers, True)
    assert not wrong, f"abstained on {right}/{len(rows)} ({right / len(rows):.0%}); answered: {wrong}"


@pytest.mark.slow  # the whole dev set through the real model
def test_no_in_scope_dev_question_abstains(dev_rows, dev_answers):
    rows = [r for r in dev_rows if not r.get("abstain")]
    right, wrong = _accuracy_report(rows, dev_answers, False)
    assert not wrong, f"answered {right}/{len(rows)} ({right / len(rows):.0%}); abstained: {wrong}"


def test_terse_questions_are_answered_and_near_topic_ones_still_abstain(bot):
    """Short chat questions sit far from whole chunks; the closest sentence keeps them in scope."""
    rows = load_jsonl("questions_short.jsonl")
    answers = {r["id"]: bot.ask(r["question"]) for r in rows}
    in_scope = [r for r in rows if not r.get("abstain")]
    _, declined = _accuracy_report(in_scope, answers, False)
    near = [r for r in rows if r.get("kind") == "near_topic"]
    _, answered = _accuracy_report(near, answers, True)
    # 2 of 31 still abstain ("Can I swim instead?", "Is my form to blame?"); before
    # the sentence-level signal it was 12.
    assert len(declined) <= 2, declined
    assert not answered, answered


@pytest.mark.parametrize("question", ["Do I need surgery?", "Will a cortisone shot fix it?", "When should I worry?"])
def test_terse_questions_about_covered_treatments_and_care(bot, question):
    answer = bot.ask(question)
    assert not answer.abstained and answer.citations


@pytest.mark.parametrize(
    "question",
    ["Is acupuncture good for hip pain?", "Do compression shorts help my hip?", "Does kinesiology tape help?"],
)
def test_treatments_the_article_never_names_abstain(bot, question):
    assert bot.ask(question).abstained


@pytest.mark.parametrize("question", OWN_OFF_TOPIC + OWN_NEAR_TOPIC)
def test_own_out_of_scope_questions_abstain(bot, question):
    answer = bot.ask(question)
    assert answer.abstained, f"answered: {answer.text!r}"
    assert answer.text.startswith(
        ("The article doesn't cover that.", "The article doesn't give", "The article doesn't mention")
    )


def test_off_topic_answer_names_what_the_article_covers(bot):
    answer = bot.ask("How do I bake chocolate chip cookies?")
    assert answer.abstained
    assert answer.citations == []
    assert answer.text.startswith(texts.NOT_COVERED)
    for section in HEADINGS:
        assert section in answer.text
    assert "Introduction" not in answer.text and "Conclusion" not in answer.text
    assert not re.search(r"\[\d+\]", answer.text)


def test_a_question_sharing_no_word_with_the_article_is_off_topic_whatever_it_reads_like(bot):
    """The request classifier reads "why is the sky blue" like "why does my hip hurt"; it got the infection
    criterion as an answer. One strange word in a vague question is no reason to refuse it."""
    answer = bot.ask("why is the sky blue")
    assert answer.abstained and answer.citations == [], answer.text
    assert answer.text.startswith(texts.NOT_COVERED)
    vague = bot.ask("how do I stop it happening again")
    assert not vague.abstained, vague.text


@pytest.mark.parametrize(
    ("question", "answered", "words"),
    [
        ("does physio use ultrasound", True, "ultrasound"),
        ("should i take calcium or magnesium supplements", True, "supplements"),
        ("how much magnesium should I take", False, "magnesium"),
        ("what dose of ibuprofen should I take", False, "ibuprofen"),
    ],
)
def test_a_passage_in_the_questions_own_words_answers_it_unless_an_amount_is_asked(bot, question, answered, words):
    """Read as asking for a procedure or a dose, these got "The article doesn't give details of medical
    procedures" above the passage that answers them; an amount the article lacks is still said to be missing."""
    answer = bot.ask(question)
    assert answer.abstained is not answered, answer.text
    assert words in answer.text and answer.citations, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "my hip is killing me after runs",
        "hip niggle after long runs, what helps?",
        "my outer hip hurts after running downhill",
        "my hip hurts after running uphill",
        "the outside of my hip hurts after runs",
        "my hip hurts on the treadmill but not outside",
        "my hip flexor is tight after sprints",
        "hip pain after the fartlek session on wednesday",
        "I train on a 400m track always counterclockwise and my left hip hurts",
        "ran a 10k in brand new shoes and my hip is sore today",
        "my hip pain started right after I switched to zero drop shoes",
        # A population word about the writer's own past is not a population the article leaves out.
        "Will running give me arthritis in my hips eventually? I hurt my hip playing football as a teen",
        "hip has been sore for about a week since i upped my training for a half marathon. how do i deal with it",
    ],
)
def test_hip_pain_from_running_is_covered_whatever_else_the_question_says_of_it(bot, question):
    """The request classifier read these as another subject ("killing", "uphill", "outer" are no words of the
    article) and they got "The article doesn't cover that": everyday words for the pain (``subject_words.txt``)
    and running's own words (``running_words.txt``) keep them in scope."""
    answer = bot.ask(question)
    assert not answer.abstained and answer.citations, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "hip pain from horse riding",
        "my hip aches after a long ride on my road bike",
        "my teen son has hip pain after running",
    ],
)
def test_hip_pain_from_another_activity_is_still_not_covered(bot, question):
    """Running words (``data/running_words.txt``) cover running's sessions, places and shoes, not other sports."""
    assert bot.ask(question).abstained


def test_knee_pain_from_cycling_is_not_answered_from_the_hip_article(bot):
    answer = bot.ask("My knee aches after long bike rides, what should I do?")
    assert answer.abstained and answer.citations == []
    # ... but the same words about the hip are in scope.
    hip = bot.ask("My hip aches after long runs, what should I do?")
    assert not hip.abstained and hip.citations


def test_missing_dose_abstains_but_quotes_the_article(bot, article_text, helpers):
    answer = bot.ask("How many milligrams of ibuprofen can I take after a long run?")
    assert answer.abstained
    prefix = f"{texts.MISSING_SPECIFIC.format(what=texts.SPECIFIC_KINDS['dose'])} {texts.DOES_SAY}"
    assert answer.text.startswith(prefix)
    assert answer.citations
    assert any("ibuprofen" in q for c in answer.citations for q in c.quotes)
    quoted = answer.text[len(prefix) :].strip()
    for body, tail, marker in helpers.split_answer(quoted):
        assert body + tail in article_text
        assert marker in {c.marker for c in answer.citations}
    for c in answer.citations:
        assert article_text[c.start : c.end] == c.text
    for number in re.findall(r"\d+", re.sub(r"\[\d+\]", "", answer.text)):
        assert number in article_text, f"invented number {number!r}"
    assert not re.search(r"\bmg\b|milligram", answer.text)


def test_missing_amount_abstains_with_a_quote(bot):
    answer = bot.ask("How many litres of water a day should I drink while my hip heals?")
    assert answer.abstained
    missing = texts.MISSING_SPECIFIC.format(what=texts.SPECIFIC_KINDS["amount"])
    assert answer.text.startswith(f"{missing} {texts.DOES_SAY}")
    assert [c.chunk_id for c in answer.citations] == ["hip-pain-from-running/role-nutrition/4-hydration"]
    assert not re.search(r"\d", re.sub(r"\[\d+\]", "", answer.text))


@pytest.mark.parametrize("question", ["", "   ", "\n\t  \n", "\x00\x01", None])
def test_empty_question(bot, question):
    answer = bot.ask(question)
    assert answer.text == texts.EMPTY_QUESTION
    assert answer.abstained is True
    assert answer.citations == []


def test_scope_does_not_reject_covered_words_near_uncovered_ones(bot):
    # "knee" is an uncovered body part, but a question about the hip that mentions it is covered.
    answer = bot.ask("My knee is fine but my hip hurts after running, should I ice it?")
    assert not answer.abstained
    assert "hip-pain-from-running/treatment-options/1-rest-and-ice" in [c.chunk_id for c in answer.citations]


@pytest.mark.parametrize(
    ("message", "kind"), [("hi", "greeting"), ("Hello!", "greeting"), ("thanks!", "thanks"), ("bye", "goodbye")]
)
def test_small_talk_gets_a_short_reply_not_not_covered(bot, message, kind):
    answer = bot.ask(message)
    assert answer.text == texts.SMALL_TALK[kind]
    assert not answer.citations and not answer.referral


def test_a_greeting_with_a_question_is_answered(bot):
    answer = bot.ask("hi, how long should I ice my hip?")
    assert not answer.abstained and "15-20 minutes" in answer.text


@pytest.mark.parametrize(
    "question",
    ["What are the symptoms of a labral tear?", "How do I know if I have hip impingement?", "signs of hip arthritis?"],
)
def test_symptoms_of_conditions_the_article_only_names_abstain(bot, question):
    """Answering these with the infection sentence would mislead: the article never describes them."""
    assert bot.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    ["Can running cause hip arthritis?", "Does surgery fix a labral tear?", "What are the signs of infection?"],
)
def test_what_the_article_does_say_about_those_conditions_is_answered(bot, question):
    assert not bot.ask(question).abstained


@pytest.mark.parametrize(
    ("message", "criterion"),
    [
        ("My Achilles is swollen after running, can I keep training on it?", "infection"),
        ("my ankle hurts so much I can't walk on it", "severe_pain"),
    ],
)
def test_a_red_flag_in_another_body_part_gets_the_referral_not_the_hip_article(bot, message, criterion):
    answer = bot.ask(message)
    assert answer.abstained and answer.text.startswith(texts.NOT_COVERED), answer.text
    assert answer.referral is not None and criterion in answer.red_flags


@pytest.mark.parametrize(
    "message",
    ["my calf goes numb when I run", "my knee went numb on my run and my hip is swollen and hot"],
)
def test_a_red_flag_in_the_leg_or_beside_the_hip_is_answered_from_the_article(bot, message):
    answer = bot.ask(message)
    assert not answer.abstained, answer.text
    assert any("seek-professional-help" in c.chunk_id for c in answer.citations)


def test_a_duration_the_article_gives_in_words_answers_how_many_days(bot):
    """The article's "a few days of rest" answers "how many days off?"; only "exactly how many" asks for a figure it lacks."""
    answer = bot.ask("how many days off for mild hip pain")
    assert not answer.abstained
    assert "a few days" in answer.text
    exact = bot.ask("exactly how many days until i can run again with a strained hip flexor?")
    assert exact.abstained and exact.citations


@pytest.mark.parametrize(
    "question",
    [
        "is it my IT band?",
        "my outer hip aches on long runs, is it my IT band?",
        "do I have a labral tear?",
        "what's wrong with my hip?",
        "sharp pain in my hip when I lift my knee, what could it be?",
    ],
)
def test_asking_to_be_told_what_one_has_gets_no_yes(bot, question):
    """ "Is it my IT band?" was answered "Yes, stretches like the hip flexor stretch, pigeon pose, and IT band
    stretch can help": the article names the structure and diagnoses nothing."""
    answer = bot.ask(question)
    assert answer.abstained
    assert answer.text.startswith(texts.MISSING_SPECIFIC.format(what=texts.SPECIFIC_KINDS["diagnosis"]))
    # What it does say is no referral criterion: "what's wrong with my hip?" got the signs of infection.
    assert not {c.section for c in answer.citations} & {"When to Seek Professional Help"}, answer.text


@pytest.mark.parametrize(
    "question", ["Can running cause hip arthritis?", "is it my form?", "can it cause arthritis later on?"]
)
def test_asking_about_a_cause_is_no_diagnosis(bot, question):
    assert not bot.ask(question).abstained


def test_a_summary_of_the_article_asked_as_a_writing_task_is_given(bot):
    """ "Summarize the article in one paragraph for my running club newsletter" was refused as a task; a summary
    of other text ("summarise this for me: The Federal Reserve ...") still is not the article's."""
    answer = bot.ask("Summarize the article in one paragraph for my running club newsletter.")
    assert answer.shape == "summary" and not answer.abstained
    other = bot.ask("summarise this for me: The Federal Reserve said on Wednesday it would hold interest rates steady.")
    assert other.abstained
