"""Words and patterns that tell what a question asks for (word lists are package data)."""

from __future__ import annotations

import re

from .. import datafiles, nlp

# Where a question's parts meet: a question mark, a colon, a semicolon, a comma, "and", "&", "plus", a spaced dash,
# "or" before a new question ("should i just pop ibuprofen or are there better ways to treat it").
PART_BREAK = re.compile(
    r"\?\s*|;\s*|:\s*|,\s*|\s+(?:and|&|plus)\s+|\s+[-\u2013\u2014]+\s+"
    r"|\s+or\s+(?=(?:are|is|do|does|should|can|could|would|will|what|how|which|any)\b)",
    re.I,
)

# A question that asks for something besides what it names ("what else", "instead", "any alternatives").
ASKS_ELSE = re.compile(
    r"\b(?:else|instead|alternatives?|what other|(?:other|better) (?:options|things|ways|signs|symptoms|reasons)|besides"
    r"|(?:is|are) there (?:any(?:thing)? )?more\b|anything more|what(?:'s| is)? next|what now|next steps?"
    r"|where (?:do i|to|should i) go from here"
    r"|rather than|other than|apart from|aside from|except|^beyond)\b",
    re.I,
)

# What the writer has tried already ("I've tried resting and icing my hip, what else is there?"): beside a question
# for what else, the items it names are ruled out as answers.
TRIED = re.compile(
    r"(?:(?:\b(?:i(?: have|'ve| already)?|already|been)\s+|^\s*)(?:tried|done|doing|given|taken|popping|popped|using|used)\b"
    r"|\bbeen\s+\w+ing\b"
    r"|(?:^|(?<=[.?!;,]\s))[^.?!;,]*?\b(?:have|has|had|did|do|does)(?:n't|\s+not)\s+(?:\w+\s+)?"
    r"(?:fixed|worked|helped|cured|solved|sorted|done\s+(?:anything|much|a\s+thing))\b)"
    r"[^.?!;,]*?(?=[.?!;,]|\bwhat\b|$)",
    re.I,
)

# A part of a question that asks ("and how long should I stay off running"), not one that tells ("My running shoes
# are really old").
ASKS_PART = re.compile(
    r"^\W*(?:(?:and|or|but|so|also|plus)\s+)?(?:how|what|what's|whats|which|when|why|where|who|can|could|should|shall"
    r"|is|are|do|does|did|will|would|any)\b",
    re.I,
)
# A question answered yes or no ("should I stretch before running?"), and a FAQ answer that opens with one.
YES_NO_QUESTION = re.compile(
    r"(?i)(?:(?:hi|hey|hello|ok|so)\W+)*(?:should|shall|can|could|is|are|do|does|did|will|would|am|was|were|have|has)\b"
)
ANSWERS_YES_NO = re.compile(r"\bA:\s*(?:yes|no)\b", re.I)


def answers_another_yes_no(question: str, text: str) -> bool:
    """A FAQ answer that opens "Yes, ..." answers its own question; beside another yes-or-no question ("should I
    stretch before running?") it would read as the answer to that one."""
    return bool(YES_NO_QUESTION.match(question.strip())) and bool(ANSWERS_YES_NO.search(text))


# Words too general to name a topic ("deal with", "handle"), from data/generic_words.txt.
GENERIC_STEMS = frozenset(nlp.stem(w) for w in datafiles.words("generic_words.txt"))
# Words that ask what the article says on a topic, not which topic (data/topic_words.txt).
ABOUT_STEMS = frozenset(nlp.stem(w) for w in datafiles.words("topic_words.txt"))
# Words that ask for a summary outright (data/summary_words.txt).
SUMMARY_REQUEST_STEMS = frozenset(nlp.stems(" ".join(datafiles.words("summary_words.txt"))))
EVERYTHING = nlp.stem("everything")
"""The one of them that asks for all the article says on the topic."""
# Everyday words the article says its own way ("shoe inserts": orthotics), from data/synonyms.tsv.
EVERYDAY_STEMS = frozenset(w for everyday, _ in datafiles.rows("synonyms.tsv") for w in nlp.stems(everyday))

# Words that ask for every item of a list (data/all_words.txt).
ALL_WORDS = frozenset(datafiles.words("all_words.txt"))

# Words that only give a definition question its form ("what is ... mean").
FORM_STEMS = frozenset(nlp.stems("what whats is are does mean meaning define definition explain term called"))

# Words that only ask, or point at the article ("pls", "gimme", "tell", "what do I need to know"), from
# data/request_words.txt and data/topic_words.txt.
ASKING_STEMS = frozenset(nlp.stem(w) for w in datafiles.words("request_words.txt")) | ABOUT_STEMS
