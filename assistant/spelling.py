"""Misspelled words read as the words they were meant to be ("prevnt" -> "prevent", "feaver" -> "fever").

One rule serves the safety layer (its key words) and the question (the article's words): a word that
is not known as written and lies one edit away from a target word with the same first letter (two
edits for words of nine letters or more, a swap of two letters counting as one edit) reads as the
nearest such target, ties in alphabetical order. A three-letter word is read as a target only with
its last two letters swapped ("hpi" -> "hip"); shorter words and words known as written are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

from rapidfuzz.distance import OSA

from . import datafiles

MIN_LENGTH = 4
LONG_WORD = 9
"""From this length on, two edits still read as the target ("excrutiating", "improvemnt")."""
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_STRETCHED = re.compile(r"(.)\1{2,}")
_LETTERS = re.compile(r"[^\W\d_]+")
ENGLISH_SHARE = 0.5
"""Share of a text's longer words that must be known as written for it to be read as English: "hoe do i
prevnt hip pian from runing" has 3 of 6; a German question 1 of 6."""


class Speller:
    """Corrects words towards a set of target words."""

    def __init__(
        self,
        targets: Iterable[str],
        *,
        known: Iterable[str] | Callable[[], Iterable[str]] = (),
        cache_size: int = 16384,
    ) -> None:
        self.targets = frozenset(t.lower() for t in targets)
        self._known = known
        by_letter: dict[str, list[str]] = {}
        for target in sorted(self.targets):
            by_letter.setdefault(target[0], []).append(target)
        self._by_letter = {letter: tuple(words) for letter, words in by_letter.items()}
        self.word = lru_cache(maxsize=cache_size)(self._word)

    @cached_property
    def known(self) -> frozenset[str]:
        """Words left as they are: the targets, and the words listed as real words of their own (a loader is
        called on the first word that needs it, so a process that never corrects never reads a dictionary)."""
        words = self._known() if callable(self._known) else self._known
        return frozenset(k.lower() for k in words) | self.targets

    def _word(self, token: str) -> str:
        """One lower-case word, corrected when it is a near miss of a target."""
        if len(token) == MIN_LENGTH - 1 and token not in self.targets:
            # Three letters: only the last two swapped ("hpi", "teh"), the commonest slip on a phone keyboard.
            swapped = token[0] + token[2] + token[1]
            return swapped if swapped in self.targets and token not in self.known else token
        if len(token) < MIN_LENGTH or token in self.targets or token in self.known:
            return token
        squeezed = _STRETCHED.sub(r"\1", token)  # "sooo", "pleeease": a stretched word, not a typo
        if squeezed != token:
            return squeezed if squeezed in self.targets or squeezed in self.known else token
        limit = 2 if len(token) >= LONG_WORD else 1
        # The nearest target, ties in alphabetical order: iterating a set made "improvd" read as "improved" in
        # one process and "improve" in the next (string hashing differs per process).
        distance, target = min(
            ((OSA.distance(token, t, score_cutoff=limit), t) for t in self._by_letter.get(token[0], ())),
            default=(limit + 1, token),
        )
        return target if distance <= limit else token

    def text(self, text: str) -> str:
        """`text` with its misspelled words corrected; a capitalised word inside a sentence is a name, kept.

        Only English is corrected: a text with accented or non-Latin letters, or whose words of three letters
        or more are mostly unknown ("Wie lange sollte ich meine Hufte kuhlen?"), is left as written.
        """
        if not self.reads_as_english(text):
            return text

        def fix(match: re.Match[str]) -> str:
            token = match.group(0)
            if "'" in token or any(c.isupper() for c in token[1:]):
                return token
            if token[0].isupper() and not _starts_sentence(text, match.start()):
                return token
            fixed = self.word(token.lower())
            if fixed == token.lower():
                return token
            return fixed.capitalize() if token[0].isupper() else fixed

        return _WORD.sub(fix, text)

    def reads_as_english(self, text: str) -> bool:
        """Latin letters only, and at least ``ENGLISH_SHARE`` of the longer words known as written."""
        words = _LETTERS.findall(text)
        if not all(w.isascii() for w in words):
            return False
        longer = [w.lower() for w in words if len(w) >= 3]
        if len(longer) < 3:  # "inflamation?": too few words to tell a language by
            return True
        known = sum(w in self.targets or w in self.known for w in longer)
        return known >= ENGLISH_SHARE * len(longer)


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?\n\"'(:"


def model_words(model_folder: Path) -> frozenset[str]:
    """The whole words of the embedding model's vocabulary (``vocab.txt``): English words it knows as written.

    They are not corrected ("hoe", "knee" and "sore" are words, "prevnt" is not). Empty when the model has
    no ``vocab.txt``; then only the targets and the listed words are taken as known.
    """
    vocab = model_folder / "vocab.txt"
    if not vocab.is_file():
        return frozenset()
    with vocab.open(encoding="utf-8") as fh:
        return frozenset(w for w in (line.strip() for line in fh) if w.isalpha() and w.islower())


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """English words as written: the 82,765-word frequency list that ships with ``symspellpy``, and
    ``data/known_words.txt`` (words of running and nutrition that list lacks: "carb", "fueling")."""
    listed = resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in listed.splitlines() if line) | frozenset(
        datafiles.words("known_words.txt")
    )
