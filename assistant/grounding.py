"""Does a cited chunk support an answer sentence? One definition for answerers and the eval.

A sentence is supported by a chunk when, after removing its markers:

* it appears in the chunk's answer text verbatim (every extractive sentence
  does), or
* one sentence of the chunk's answer text holds at least ``MIN_COVERAGE`` of
  the sentence's content words (stemmed), both are negated or neither is,
  and every number the sentence states occurs in the chunk.

Names are held to the same rule as numbers: a capitalized word inside the
sentence (a brand, a drug, a test) or a word the scope check lists as a
subject the article does not cover must occur in the chunk too.

Only the answer text counts: a FAQ chunk's question ("Can running cause hip
arthritis?") supports nothing. The number rule keeps a paraphrase from
inventing a dose or a duration ("ice for 30 minutes" is not "15-20
minutes"); the negation rule keeps "running causes arthritis" from passing
as "running itself doesn't directly cause arthritis".
"""

from __future__ import annotations

import re

from . import nlp
from .scope import UNCOVERED_TERMS

MIN_COVERAGE = 0.6
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?%?")
_MARKER = re.compile(r"\s*\[\d+\]")
_FAQ_QUESTION = re.compile(r"^\s*(?:Q|Question)\s*[:.].*?\s(?:A|Answer)\s*:\s*", re.IGNORECASE | re.DOTALL)
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|cannot|without)\b|n't\b", re.IGNORECASE)


def answer_text(chunk: str) -> str:
    """The part of a chunk that states something: a FAQ chunk without its question."""
    return _FAQ_QUESTION.sub("", chunk, count=1)


def numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(text))


def coverage(sentence: str, text: str) -> float:
    """Share of the sentence's content stems that occur in `text`."""
    words = set(nlp.stems(sentence))
    if not words:
        return 0.0
    return len(words & set(nlp.stems(text))) / len(words)


def names(text: str) -> set[str]:
    """Words that name something specific: capitalized inside a sentence, or a listed uncovered subject."""
    out = set()
    for a, b in nlp.sentence_spans(text):
        for i, word in enumerate(re.findall(r"[A-Za-z][\w-]*", text[a:b])):
            if (i > 0 and word[0].isupper() and word.lower() not in nlp.STOPWORDS) or word.lower() in UNCOVERED_TERMS:
                out.add(word.lower())
    return out


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text.replace("\u2019", "'")))


def support(sentence: str, chunk: str) -> float:
    """How well the chunk supports the sentence: 1.0 verbatim, else the best sentence coverage (0 if it fails)."""
    sentence = _MARKER.sub("", sentence).strip()
    body = answer_text(chunk)
    if not sentence:
        return 0.0
    if sentence.rstrip(".!?:") in body:
        return 1.0
    if not numbers(sentence) <= numbers(body):
        return 0.0
    if not names(sentence) <= set(nlp.words(body)):
        return 0.0
    negated = _negated(sentence)
    spans = nlp.sentence_spans(body)
    return max(
        (coverage(sentence, body[a:b]) for a, b in spans if _negated(body[a:b]) == negated),
        default=0.0,
    )


def is_supported(sentence: str, chunk: str) -> bool:
    return support(sentence, chunk) >= MIN_COVERAGE
