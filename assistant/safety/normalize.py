"""Text as the safety rules read it: one folded, normalized copy that remembers the original.

Lookalike letters (a Cyrillic "е" in "fеver", full-width letters, ligatures)
are folded to ASCII with NFKC and ``anyascii`` before anything is matched,
contractions are expanded and common misspellings of the key words are
corrected; ``Normalized.original`` gives back what the person wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

from .. import datafiles
from ..nlp import trimmed
from ..spelling import Speller

WORDS_FILE = "safety_words.tsv"
"""Contractions, misspelled key words and the common words that are not typos of them (package data)."""
_TABLE = datafiles.rows(WORDS_FILE)
_CONTRACTIONS = [(fields[1], fields[2]) for fields in _TABLE if fields[0] == "contraction"]
_KEY_WORDS = frozenset(w for fields in _TABLE if fields[0] == "key" for w in fields[1].split())
_NOT_TYPOS = frozenset(w for fields in _TABLE if fields[0] == "not_typo" for w in fields[1].split())
_SPELLER = Speller(_KEY_WORDS, known=_NOT_TYPOS)
_TOKEN = re.compile(r"[a-z]+")


@lru_cache(maxsize=16384)
def _word(word: str) -> str:
    """One lower-case word as the rules read it: contractions expanded, misspelled key words corrected."""
    for pattern, repl in _CONTRACTIONS:
        word = re.sub(pattern, repl, word)
    return _TOKEN.sub(lambda m: _SPELLER.word(m.group(0)), word)


def fold(ch: str) -> str:
    """One character as plain letters: NFKC, then lookalikes and accents to ASCII (apostrophes kept)."""
    if ch.isascii() or ch in "\u2019\u2018":
        return ch
    folded = unicodedata.normalize("NFKC", ch)
    return folded if folded.isascii() else anyascii(folded)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_PIECE = re.compile(r"[a-z0-9']+|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class Normalized:
    """A normalized copy of a message that remembers where each character came from.

    Rules match the normalized text; ``original(start, end)`` gives back the
    words the user actually wrote ("can't put weight", not "can not put weight").
    """

    text: str
    source: str
    begin: tuple[int, ...]
    end: tuple[int, ...]

    @classmethod
    def of(cls, source: str) -> Normalized:
        """The normalized text of `source`, remembered: one message is read by detection, the care-question
        rule and the criteria names, and earlier messages again every turn."""
        return _normalized(source)

    @classmethod
    def forget(cls) -> None:
        """Forget remembered texts (benchmarks time the reading itself)."""
        _normalized.cache_clear()

    @classmethod
    def _read(cls, source: str) -> Normalized:
        if source.isascii():  # one character each, nothing to fold
            low, origin = source.lower().translate(_APOSTROPHES), list(range(len(source)))
        else:
            lowered, origin = [], []
            for i, ch in enumerate(source):
                for c in fold(ch).lower().translate(_APOSTROPHES):
                    lowered.append(c)
                    origin.append(i)
            low = "".join(lowered)
        out: list[str] = []
        begin: list[int] = []
        end: list[int] = []
        for piece in _PIECE.finditer(low):
            word = piece.group(0)
            if word.isspace():
                if out and out[-1] == " ":
                    continue
                word = " "
            elif word[0].isalnum() or word[0] == "'":
                word = _word(word)
            first, last = origin[piece.start()], origin[piece.end() - 1] + 1
            out.append(word)
            begin += [first] * len(word)
            end += [last] * len(word)
        return cls("".join(out), source, tuple(begin), tuple(end))

    def original(self, start: int, end: int) -> str:
        if start >= end:
            return ""
        return self.source[self.begin[start] : self.end[end - 1]].strip()


_normalized = lru_cache(maxsize=1024)(Normalized._read)


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, expanded contractions, corrected key words."""
    return Normalized.of(text).text


# A clause ends at sentence punctuation, a semicolon, a dash, a comma, or a
# contrastive word; negation does not reach across a clause boundary.
_CLAUSE_SPLIT = re.compile(
    r"[.!?;:\n]+|\s[-\u2013\u2014]+\s|,|\b(?:but|though|although|however|except|just|only)\b"
    r"|\band (?=(?:my|i|it|the|now|then|this|that|also|today)\b)"
)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?\n])\s+")


def _spans(text: str, separator: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of text[start:end] between separator matches, trimmed of space."""
    spans, cursor = [], start
    for match in [*separator.finditer(text, start, end), None]:
        stop = match.start() if match else end
        a, b = trimmed(text, cursor, stop)
        if b > a:
            spans.append((a, b))
        cursor = match.end() if match else end
    return spans
