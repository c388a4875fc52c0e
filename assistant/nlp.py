"""Small text helpers shared by the corpus parser, BM25, abstention and safety.

Everything here is plain Python so it is fast and deterministic: tokens and
stems for lexical matching, sentence spans that point back into the source,
and readable slugs for chunk ids.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from . import datafiles

STOPWORDS = frozenset(datafiles.words("stopwords.txt"))

_WORD = re.compile(r"[a-z0-9]+(?:[%'][a-z0-9]*)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_STEMMER = snowballstemmer.stemmer("english")


def normalize(text: str) -> str:
    """Lower-case, fold accents and curly apostrophes so matching ignores them."""
    if text.isascii():  # nothing to fold (the common case, and this runs many times a question)
        return text.lower()
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """All word tokens, stopwords included, normalized."""
    return _WORD.findall(normalize(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    stemmed: str = _STEMMER.stemWord(word)  # snowballstemmer is untyped
    return stemmed


def content_words(text: str) -> list[str]:
    """Tokens that carry meaning: no stopwords, no one-letter tokens."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


def stems(text: str) -> list[str]:
    """Stemmed content words: the token stream BM25 and term coverage use."""
    return [stem(w) for w in content_words(text)]


@lru_cache(maxsize=1)
def synonyms() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Everyday words and the article's words for them (package data ``data/synonyms.tsv``)."""
    return tuple(
        (re.compile(rf"\b{re.escape(everyday.lower())}\b"), article)
        for everyday, article in datafiles.rows("synonyms.tsv")
    )


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """The one-word everyday words of ``data/synonyms.tsv`` ("physio", "insoles"): the article says them its own
    way, so they are no words it lacks."""
    return frozenset(everyday.lower() for everyday, _ in datafiles.rows("synonyms.tsv") if " " not in everyday)


_RULED_OUT = re.compile(
    rf"\b(?:{'|'.join(datafiles.lines('ruling_out.txt'))})\b"
    r"[^.?!;]*?(?=[.?!;]|\bbut\b|,\s*(?:how|what|why|when|where|which|who|should|can|could|do|does|is|are|will|would"
    r"|i|my|any|anything)\b|$)",
    re.IGNORECASE,
)


def ruled_out(text: str) -> str:
    """`text` without what it rules out (``data/ruling_out.txt``), to the end of its clause: "what can I do at
    home, dont really want to pay for physio" keeps "what can I do at home". A list after it goes too ("without
    pills, injections or surgery"); a comma before a new question ends it ("no surgery, what else is there?")."""
    return _RULED_OUT.sub(" ", text.replace("\u2019", "'"))


_TOKEN = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _synonyms_by_first_word() -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """The entries of ``synonyms()`` by the first word of their everyday words, and those starting otherwise.

    A whole-word phrase can only be in a text holding its first word as a token, so a question tries the few
    entries its words start, not all of them (this ran three times per question, a tenth of a millisecond each).
    """
    by_word: dict[str, list[int]] = {}
    always: list[int] = []
    for i, (everyday, _) in enumerate(datafiles.rows("synonyms.tsv")):
        first = _TOKEN.match(everyday.lower())
        if first:
            by_word.setdefault(first.group(0), []).append(i)
        else:
            always.append(i)
    return {word: tuple(entries) for word, entries in by_word.items()}, tuple(always)


@lru_cache(maxsize=4096)
def expand(text: str) -> str:
    """`text` plus the article's words for the everyday words in it ("shoe inserts" -> orthotics)."""
    low = normalize(text)
    by_word, always = _synonyms_by_first_word()
    tried = sorted({i for word in set(_TOKEN.findall(low)) for i in by_word.get(word, ())} | set(always))
    entries = synonyms()
    extra = [entries[i][1] for i in tried if entries[i][0].search(low)]
    return f"{text} {' '.join(extra)}" if extra else text


# An amount, in figures or in words: "20 minutes", "a few days", "several weeks", "two to three times".
_AMOUNT = re.compile(
    r"\b(?:\d+(?:[.,]\d+)?|a few|a couple of|several|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
    r"(?:\s*(?:-|to)\s*\w+)?\s*(?:%|percent\b|(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|times|miles?"
    r"|km|kilometres?|kilometers?|sessions?)\b)",
    re.IGNORECASE,
)


_EXACT = re.compile(r"\b(?:exact|exactly|precise|precisely)\b", re.IGNORECASE)


def gives_amount(question: str, text: str) -> bool:
    """Does the text give the amount the question asks for? "how many days off?" is answered by "a few days of
    rest" as much as by "15-20 minutes"; "exactly how many days?" only by a figure."""
    found = _AMOUNT.search(text)
    return found is not None and (not _EXACT.search(question) or any(c.isdigit() for c in found.group(0)))


def slugify(text: str, *, drop: frozenset[str] = frozenset(), max_words: int = 6) -> str:
    """A short, readable, URL-safe slug: the words of `text` minus `drop`."""
    kept = [w.replace("'", "") for w in words(text) if w not in drop]
    return "-".join(w for w in kept[:max_words] if w)


# A sentence ends at . ! or ? followed by space and an upper-case letter, digit
# or quote. Abbreviations that end in a period are not sentence ends.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\u201d\u2019]*(?=\s+[\"'(\u201c\u2018A-Z0-9])")
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:e\.g|i\.e|etc|vs|dr|mr|mrs|ms|st|approx|fig)\.$", re.IGNORECASE)
_NUMBER_ABBREVIATION = re.compile(r"(?:^|[\s(])no\.$", re.IGNORECASE)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in text[start:end], without surrounding space.

    Offsets are absolute indices into `text`, so a span always quotes the
    source exactly.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if _ABBREVIATION.search(text, cursor, stop):
            continue
        if _NUMBER_ABBREVIATION.search(text, cursor, stop) and text[stop:end].lstrip()[:1].isdigit():
            continue  # "No. 5"
        spans.append((cursor, stop))
        cursor = stop
    spans.append((cursor, end))
    return [span for s, e in spans if (span := trimmed(text, s, e))[1] > span[0]]


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """text[start:end] without surrounding whitespace, as a span into `text`."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
