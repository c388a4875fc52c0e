"""The package data every part reads, and the scope rules that need no model."""

from __future__ import annotations

import typing

import pytest

from assistant import datafiles, nlp, texts
from assistant.answer import RED_FLAGS
from assistant.compose import Shape, load_examples
from assistant.errors import HipAssistantError
from assistant.safety import context
from assistant.safety.learned import load_examples as safety_examples
from assistant.scope.judge import ScopeJudge
from assistant.scope.kinds import KINDS
from assistant.scope.kinds import load_examples as scope_examples
from assistant.scope.terms import load_terms


def test_every_example_is_labelled_with_a_known_value():
    assert {row["shape"] for row in load_examples()} <= set(typing.get_args(Shape))
    assert {row["label"] for row in scope_examples()} <= set(KINDS)
    assert {label for row in safety_examples() for label in row["labels"]} <= set(RED_FLAGS)


def test_context_modifiers_are_of_known_kinds():
    kinds = {row[0] for row in datafiles.rows("context_modifiers.tsv")}
    assert kinds <= set(typing.get_args(context.Kind))


def test_every_answer_type_the_scope_can_name_has_its_words():
    learned = {k for k in KINDS if k not in ("article", "task", "other_subject", "off_topic")}
    by_rule = {"dose", "brand", "amount"}  # ScopeJudge._specific
    assert learned | by_rule == set(texts.SPECIFIC_KINDS)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many mg of ibuprofen should I take?", "dose"),
        ("Which brand of running shoes is best?", "brand"),
        ("How much protein should I eat a day?", "amount"),
        ("How do I relieve hip pain from running?", None),
        ("How many weeks should I rest?", None),
    ],
)
def test_a_question_for_a_figure_or_product_is_recognised(question, kind):
    assert ScopeJudge._specific(question) == kind


def test_uncovered_terms_are_lower_case_and_categorised():
    terms = load_terms()
    assert terms and all(t == t.lower() for t in terms)
    assert set(terms.values()) <= {
        "body_part",
        "condition",
        "population",
        "diagnostic",
        "medication",
        "treatment",
        "brand",
    }


def test_a_mistake_in_a_data_file_is_the_projects_error_naming_the_file():
    with pytest.raises(HipAssistantError, match=r"context_modifiers\.tsv.*'negatd'"):
        context._entry("negatd", "forward", "3", r"\bno\b")
    with pytest.raises(datafiles.DataFileError, match="direction 'sideways'"):
        context._entry("negated", "sideways", "3", r"\bno\b")


@pytest.mark.parametrize(
    ("question", "text", "gives"),
    [
        ("how many days off?", "Mild pain may require a few days of rest.", True),
        ("how long should I ice?", "Apply ice for 15-20 minutes several times a day.", True),
        ("exactly how many days?", "Mild pain may require a few days of rest.", False),
        ("exactly how long should I ice?", "Apply ice for 15-20 minutes several times a day.", True),
        ("how much omega-3?", "Incorporate foods rich in omega-3 fatty acids.", False),
    ],
)
def test_an_amount_in_words_or_figures_answers_how_many(question, text, gives):
    assert nlp.gives_amount(question, text) is gives


@pytest.mark.parametrize(
    ("question", "gone", "kept"),
    [
        ("what can i do at home for a sore hip, dont really want to pay for physio", "physio", "sore hip"),
        ("how do I treat it without pills, injections or surgery?", "pills injections surgery", "treat"),
        ("I don't want surgery, what else is there?", "surgery", "what else is there?"),
        ("what can I do instead of physio", "physio", "what can I do"),
        ("is there an alternative to cortisone shots?", "cortisone shots", "is there"),
    ],
)
def test_what_a_question_rules_out_goes_to_the_end_of_its_clause(question, gone, kept):
    left = nlp.ruled_out(question)
    assert kept in left and not set(gone.split()) & set(left.split())


@pytest.mark.parametrize(
    "question",
    ["I have never tried foam rolling, does it help?", "I don't know how to strengthen my hips", "cant run, help"],
)
def test_a_negation_that_rules_nothing_out_keeps_the_question_whole(question):
    """Not having tried something, or not knowing how, asks about it."""
    assert nlp.ruled_out(question) == question
