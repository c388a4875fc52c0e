"""The safety layer's rules and ConText modifiers without the learned detector, and the referral it writes."""

from __future__ import annotations

import pytest

from assistant import texts
from assistant.answer import RED_FLAGS
from assistant.render import render_referral
from assistant.safety import SafetyLayer
from assistant.safety.detect import Detector
from assistant.safety.names import URGENCY_ORDER
from assistant.safety.normalize import normalize
from assistant.safety.referral import ReferralWriter
from assistant.safety.rules import RULES

RULES_ONLY = Detector(None)


def found(text: str) -> set[str]:
    return {d.criterion for d in RULES_ONLY.detect(text).detections}


@pytest.mark.parametrize(
    ("text", "criterion"),
    [
        ("My leg tingles when I run", "nerve_symptoms"),
        ("I can't walk because of the hip pain", "severe_pain"),
        ("The pain has lasted three weeks and is not getting better", "persistent_pain"),
        ("My hip is swollen and red and I have a fever", "infection"),
        ("My GP said I'm totally fine but my foot still goes numb on every run", "nerve_symptoms"),
        # Daily activities the pain stops: dressing, turning in bed, walking unaided.
        ("my hip is so swollen I can't get my jeans on or walk without help", "severe_pain"),
        ("I can't roll over in bed or get up without yelling", "severe_pain"),
    ],
)
def test_plain_wordings_are_caught_by_the_rules(text, criterion):
    assert criterion in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "My friend has a fever",
        "I had a fever last week with a cold, fully over it now",
        "What counts as severe pain?",
        "Cold weather running: my fingers go numb even in gloves",
    ],
)
def test_modifiers_cancel_what_they_cover(text):
    assert found(text) == set()


def test_a_negation_ends_at_but():
    assert found("No fever but my hip is swollen and red") == {"infection"}


def test_lookalike_letters_and_a_symptom_far_into_the_message():
    assert normalize("f\u0435ver") == "fever"  # a Cyrillic e
    assert "infection" in found("f\u0435ver and my hip is hot")
    assert "nerve_symptoms" in found("I like running. " * 200 + "Now my leg tingles all the time.")


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("I can't walk without help", "i can not walk without help"),
        (
            "waking up stiff, spelling it out, selling my old shoes",
            "waking up stiff, spelling it out, selling my old shoes",
        ),
        ("noting my readiness score", "noting my readiness score"),
        ("my hip is swolen and I can't put wieght on it", "my hip is swollen and i can not put weight on it"),
        ("iced it daily and nothing's changed", "iced it daily and nothing has changed"),
    ],
)
def test_common_words_near_a_key_word_are_not_read_as_it(text, read):
    """The key-word speller corrects misspellings ("swolen"), not English words one letter away from a key word:
    "help" read as "helps" broke "walk without help", "waking" would read as "walking", "readiness" as
    "redness" and "noting" as "nothing", a negation."""
    assert normalize(text) == read


def test_every_rule_names_a_known_criterion():
    assert {rule.criterion for rule in RULES} == set(RED_FLAGS)
    assert set(URGENCY_ORDER) == set(RED_FLAGS)


def test_the_referral_quotes_the_article_and_puts_the_reported_criterion_first(criteria, article_text):
    referral = ReferralWriter(criteria).full(["nerve_symptoms"], {"nerve_symptoms": "tingles"})
    assert referral.kind == "flagged"
    assert referral.criteria[0].name == "nerve_symptoms"
    assert {c.name for c in referral.criteria} == set(RED_FLAGS), "all four criteria are always listed"
    for criterion in referral.criteria:
        assert criterion.quote in article_text
    html = render_referral(referral)
    assert texts.URGENCY["nerve_symptoms"] in referral.text.lower() and "tingles" in html


def test_a_later_turn_gets_a_one_line_reminder(criteria):
    reminder = ReferralWriter(criteria).short(["persistent_pain", "severe_pain"])
    assert reminder.kind == "reminder"
    assert [c.name for c in reminder.criteria] == ["severe_pain", "persistent_pain"]  # most urgent first


@pytest.mark.parametrize(
    "text",
    [
        "how do I know if it's serious?",
        "is this something serious?",
        "will it go away on its own",
        "shud i see a docter",
        "should I get someone to look at my hip?",
    ],
)
def test_asking_whether_it_is_serious_is_asking_when_to_get_care(text):
    assert SafetyLayer.is_care_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "I had a serious talk with my coach",
        "will it get easier to run hills?",
        "should i get someone to film me running to check my form",
    ],
)
def test_other_uses_of_the_words_are_not_care_questions(text):
    assert not SafetyLayer.is_care_question(text)
