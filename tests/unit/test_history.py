"""Conversation input: message cleaning, history normalisation, follow-up condensation."""

from __future__ import annotations

import unicodedata

import pytest

from assistant.history import clean_text, condense, is_follow_up, normalize_history, point_back


def norm(history, limit=2000, max_messages=40):
    return normalize_history(history, limit=limit, max_messages=max_messages)


def test_messages_dicts():
    history = [
        {"role": "user", "content": "Does ice help?"},
        {"role": "assistant", "content": "Yes, it reduces inflammation."},
        {"role": "User", "content": "  How long?  "},
    ]
    assert norm(history) == [
        {"role": "user", "content": "Does ice help?"},
        {"role": "assistant", "content": "Yes, it reduces inflammation."},
        {"role": "user", "content": "How long?"},
    ]


def test_gradio_pairs():
    history = [["Does ice help?", "Yes."], ("How long?", None), ["Thanks", "You're welcome"]]
    assert norm(history) == [
        {"role": "user", "content": "Does ice help?"},
        {"role": "assistant", "content": "Yes."},
        {"role": "user", "content": "How long?"},
        {"role": "user", "content": "Thanks"},
        {"role": "assistant", "content": "You're welcome"},
    ]


def test_content_as_list_of_parts():
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Does ice"}, "help my hip?"]},
        {"role": "assistant", "content": [{"type": "text", "text": "Yes."}, None]},
        {"role": "user", "content": {"path": "/tmp/photo.png"}},  # a file, no text: dropped
    ]
    assert norm(history) == [
        {"role": "user", "content": "Does ice help my hip?"},
        {"role": "assistant", "content": "Yes."},
    ]


JUNK = [
    None,
    42,
    3.5,
    "a bare string",
    b"bytes",
    {"role": "system", "content": "You are a pirate."},
    {"role": "tool", "content": "{}"},
    {"role": None, "content": "no role"},
    {"content": "no role at all"},
    {"role": "user"},
    {"role": "user", "content": None},
    {"role": "user", "content": "   "},
    ["one"],
    ["a", "b", "c"],
    object(),
    {"role": "user", "content": "kept"},
]


def test_junk_is_dropped_without_raising():
    assert norm(JUNK) == [{"role": "user", "content": "kept"}]


@pytest.mark.parametrize(
    "history", [None, [], "not a list", b"bytes", 42, 0, {"role": "user", "content": "x"}, (x for x in [])]
)
def test_non_list_history_is_empty(history):
    assert norm(history) == []


def test_history_is_bounded():
    history = [{"role": "user", "content": f"question {i}"} for i in range(10)]
    assert [m["content"] for m in norm(history, max_messages=3)] == ["question 7", "question 8", "question 9"]
    assert norm(history, max_messages=0) == []
    long = [{"role": "user", "content": "word " * 100}]
    assert len(norm(long, limit=60)[0]["content"]) <= 60


def test_clean_text_removes_control_chars_and_lone_surrogates():
    result = clean_text("ice\x00 my\x07 hip\x1b[31m now\ud800\udfff?\x7f", 100)
    assert not result.truncated
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in result.text)
    assert result.text.startswith("ice my hip")
    result.text.encode("utf-8")  # encodable: no lone surrogates left


def test_clean_text_keeps_ordinary_text_and_normalizes_space():
    assert clean_text("  Does   ice\thelp?  ", 100).text == "Does ice help?"
    assert clean_text("caf\u0065\u0301 and na\u00efve", 100).text == "caf\u00e9 and na\u00efve"  # NFC
    assert clean_text(None, 100).text == ""
    assert clean_text(12, 100).text == "12"


def test_clean_text_removes_c1_control_chars():
    result = clean_text("ice\x85my\x9b31mhip", 100)
    assert not any(unicodedata.category(ch) == "Cc" for ch in result.text), repr(result.text)


def test_clean_text_truncates_at_the_limit():
    text = "How long should I ice my hip after a long run " * 10
    result = clean_text(text, 100)
    assert result.truncated is True
    assert 80 < len(result.text) <= 100
    assert text.startswith(result.text)
    assert not result.text.endswith(" ")
    assert text[len(result.text)] == " ", "cut at a word boundary"
    # One long word: cut hard at the limit.
    hard = clean_text("x" * 500, 100)
    assert hard.truncated and hard.text == "x" * 100
    exact = clean_text("y" * 100, 100)
    assert exact.truncated is False and exact.text == "y" * 100


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how long should each session be?", True),
        ("and after?", True),
        ("what about them?", True),
        ("is it safe?", True),
        ("what exercises strengthen the hip muscles?", False),
        ("How long should I ice my hip?", False),
        ("Can running cause hip arthritis?", False),
        ("ice how long?", False),
    ],
)
def test_is_follow_up(question, expected):
    assert is_follow_up(question) is expected


def _users(*contents):
    return [{"role": "user", "content": c} for c in contents]


def test_condense_prefixes_the_topic_turn():
    history = _users("Does ice help hip pain?")
    assert condense("how long should each session be?", history) == (
        "Does ice help hip pain? how long should each session be?"
    )


def test_condense_leaves_standalone_questions_alone():
    history = _users("Does ice help hip pain?")
    assert condense("What foods reduce inflammation?", history) == "What foods reduce inflammation?"
    assert condense("how long?", []) == "how long?"
    # Assistant turns are never part of the query.
    assistant_only = [{"role": "assistant", "content": "Ice helps."}]
    assert condense("how long?", assistant_only) == "how long?"


def test_condense_walks_back_through_chained_follow_ups():
    history = _users("Does ice help hip pain?", "how long?")
    assert condense("how often?", history) == "Does ice help hip pain? how long? how often?"
    # ... but stops at the latest stand-alone question.
    history = _users("Does ice help hip pain?", "What exercises strengthen the hip muscles?")
    assert condense("how often?", history) == "What exercises strengthen the hip muscles? how often?"


def test_an_opener_with_a_topic_of_the_article_changes_the_subject():
    """ "and what should I eat?" after "how long should I rest?" was condensed into the rest question and got the
    rest answer again; "eat" is the article's nutrition. "and for beginners?" names nothing the article does."""
    topics = frozenset({"nutrit", "ice", "rest", "surgeri"})
    history = _users("how long should I rest?")
    assert condense("and what should I eat?", history, topics) == "and what should I eat?"
    assert condense("what about surgery?", history, topics) == "what about surgery?"
    assert condense("and for beginners?", history, topics) == "how long should I rest? and for beginners?"
    # Without the article's topics every opener is a follow-up, as before.
    assert condense("and what should I eat?", history) == "how long should I rest? and what should I eat?"


LISTED = (
    "Here are some strategies to keep your hips happy and healthy [1]:\n\n"
    "- **Strengthen Your Hip Muscles**: Incorporate exercises ... [2].\n"
    "- **Improve Flexibility**: Regular stretching ... [3].\n"
    "- **Choose the Right Footwear**: Invest in running shoes ... [4].\n"
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("tell me more about the second one", "tell me more about Improve Flexibility"),
        ("and the last one?", "and Choose the Right Footwear?"),
        ("explain number 1", "explain Strengthen Your Hip Muscles"),
        # Past the list's end, or no place named: the question as it is.
        ("what about the fifth one?", "what about the fifth one?"),
        ("which one is best?", "which one is best?"),
    ],
)
def test_a_follow_up_that_points_to_a_listed_item_by_its_place_names_it(question, expected):
    history = [
        {"role": "user", "content": "how do I prevent hip pain?"},
        {"role": "assistant", "content": LISTED},
        {"role": "user", "content": "how often?"},
        {"role": "assistant", "content": "Regular stretching can help [1]."},
    ]
    assert point_back(question, history) == expected
    assert point_back(question, []) == question
