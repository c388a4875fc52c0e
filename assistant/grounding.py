"""Does a cited chunk support an answer sentence? One definition for answerers and the eval.

A sentence is supported by a chunk when, after removing its markers:

* it appears in the chunk verbatim (every extractive sentence does), or
* at least ``MIN_COVERAGE`` of its content words (stemmed) occur in the
  chunk, and every number it states occurs in the chunk too.

The number rule is what keeps a paraphrase from inventing a dose or a
duration: "ice for 30 minutes" is not supported by "15-20 minutes" however
many other words match.
"""

from __future__ import annotations

import re

from . import nlp

MIN_COVERAGE = 0.6
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?%?")
_MARKER = re.compile(r"\s*\[\d+\]")


def numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(text))


def coverage(sentence: str, chunk: str) -> float:
    """Share of the sentence's content stems that occur in the chunk."""
    words = set(nlp.stems(sentence))
    if not words:
        return 0.0
    return len(words & set(nlp.stems(chunk))) / len(words)


def is_supported(sentence: str, chunk: str) -> bool:
    sentence = _MARKER.sub("", sentence).strip()
    if not sentence:
        return False
    if sentence.rstrip(".!?:") in chunk:
        return True
    return numbers(sentence) <= numbers(chunk) and coverage(sentence, chunk) >= MIN_COVERAGE
