"""Conversation input: clean the user's message and history, condense follow-ups.

History comes in the messages format of Gradio and OpenAI
(``{"role": "user"|"assistant", "content": str}``); older Gradio pairs
``[user, assistant]`` are accepted too. Nothing here raises on odd input:
whatever cannot be read as a message is skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from . import datafiles, nlp

Message = dict[str, str]

# Words that point back to an earlier turn ("how long should *each* session be?").
_ANAPHORA = frozenset(datafiles.words("anaphora.txt"))
_FOLLOW_UP_OPENERS = re.compile(r"^\s*(?:and|also|but|so|what about|how about|what if|ok(?:ay)?|then)\b", re.IGNORECASE)
# Words too general to carry a topic on their own.
_GENERIC = frozenset(datafiles.words("generic_words.txt"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class CleanText:
    text: str
    truncated: bool
    """True when the message was longer than the limit and only its start was used."""


def clean_text(value: object, limit: int) -> CleanText:
    """Printable, normalized text of at most `limit` characters.

    Control characters and lone surrogates are removed; the text is kept
    otherwise as written. Over-long text is cut at a word boundary.
    """
    if value is None:
        return CleanText("", False)
    text = value if isinstance(value, str) else _as_str(value)
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become '?'
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    text = re.sub(r"[ \t\r\f\v]+", " ", text).strip()
    if len(text) <= limit:
        return CleanText(text, False)
    cut = text[:limit]
    space = cut.rfind(" ")
    return CleanText(cut[:space] if space > limit * 0.8 else cut, True)


def _as_str(value: object) -> str:
    """str(value), or '' for what cannot be one (an int of 5,000 digits, a broken __str__)."""
    try:
        return str(value)
    except Exception:
        return ""


_MAX_PARTS = 1000


def _content(value: object) -> str:
    """Text of a message's content, which Gradio may give as a (nested) list of parts.

    Walked without recursion and with a bound, so a deeply nested or
    self-referencing list is read as far as sensible instead of raising.
    """
    parts: list[str] = []
    stack: list[object] = [value]
    seen: set[int] = set()
    while stack and len(parts) < _MAX_PARTS:
        item = stack.pop()
        if item is None:
            continue
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            parts.append(_as_str(item.get("text") or item.get("content") or ""))
        elif isinstance(item, (list, tuple)):
            if id(item) in seen or len(seen) > _MAX_PARTS:
                continue
            seen.add(id(item))
            stack.extend(reversed(item))
        else:
            parts.append(_as_str(item))
    return " ".join(p for p in parts if p)


_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}


def _role_and_content(item: object) -> tuple[str, object] | None:
    """(role, content) of a message given as a dict, a LangChain message or a ("human", text) tuple."""
    if isinstance(item, dict):
        return _as_str(item.get("role", item.get("type", ""))).lower(), item.get("content")
    kind = getattr(item, "type", None)
    if isinstance(kind, str) and hasattr(item, "content"):
        return kind.lower(), item.content  # langchain_core BaseMessage: HumanMessage.type == "human"
    return None


def normalize_history(history: Iterable[object] | None, *, limit: int, max_messages: int) -> list[Message]:
    """The last `max_messages` readable messages, as roles 'user'/'assistant' only.

    Accepts OpenAI/Gradio dicts, LangChain roles ("human", "ai") and message
    objects, and Gradio's older [user, assistant] pairs; system messages and
    anything else are dropped (a forged system turn changes nothing).
    """
    if not history or isinstance(history, (str, bytes)):
        return []
    messages: list[Message] = []
    try:
        items = list(history)
    except TypeError:
        return []
    for item in items:
        pair = _role_and_content(item)
        if pair is None and isinstance(item, (list, tuple)) and len(item) == 2 and item[0] in ("human", "ai"):
            pair = (item[0], item[1])  # LangChain's ("human", "text") shorthand
        if pair is not None:
            role = _ROLES.get(pair[0])
            if role:
                messages.append({"role": role, "content": clean_text(_content(pair[1]), limit).text})
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            for role, content in zip(("user", "assistant"), item, strict=True):
                if content is not None:
                    messages.append({"role": role, "content": clean_text(_content(content), limit).text})
    messages = [m for m in messages if m["content"]]
    return messages[-max_messages:] if max_messages else []


def user_messages(history: list[Message]) -> list[str]:
    return [m["content"] for m in history if m["role"] == "user"]


def topical_words(text: str) -> list[str]:
    """Content words that can carry a topic on their own."""
    return [w for w in nlp.content_words(text) if w not in _GENERIC]


def names_topic(question: str, topics: frozenset[str]) -> bool:
    """Does the question name one of `topics` (stems), in its own words or an everyday word for one ("eat" is
    nutrition)?"""
    return bool(set(nlp.stems(nlp.expand(question))) & topics)


def is_follow_up(question: str, topics: frozenset[str] = frozenset()) -> bool:
    """Does this question lean on an earlier turn to make sense? An opener ("and", "what about") with a topic of
    the article's own (`topics`) changes the subject instead: "and what should I eat?" after "how long should I
    rest?" asks about nutrition, "and for beginners?" still asks about resting."""
    tokens = nlp.words(question)
    topical = topical_words(question)
    if not topical:
        return True
    if _FOLLOW_UP_OPENERS.match(question) and len(topical) <= 2 and not names_topic(question, topics):
        return True
    return any(t in _ANAPHORA for t in tokens) and len(topical) <= 2


def condense(question: str, history: list[Message], topics: frozenset[str] = frozenset()) -> str:
    """A stand-alone retrieval query for a follow-up.

    The follow-up is prefixed with the earlier user turns back to the last one
    that stood on its own ("does ice help?" -> "how long?" -> "how often?").
    `topics`: the article's topic words (stems), see ``is_follow_up``.
    """
    earlier = user_messages(history)
    if not earlier or not is_follow_up(question, topics):
        return question
    start = len(earlier) - 1
    while start > 0 and len(earlier) - start < 3 and is_follow_up(earlier[start], topics):
        start -= 1
    return " ".join([*earlier[start:], question])


_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
    "last": -1,
}
_POINTS_BACK = re.compile(
    r"\b(?:the\s+)?(?P<nth>" + "|".join(_ORDINALS) + r")\s+(?:one|item|point|tip|option|thing|strategy|suggestion"
    r"|bullet|idea|cause|treatment)\b|\b(?:number|no\.|#)\s*(?P<n>[1-8])\b",
    re.IGNORECASE,
)
_LISTED = re.compile(r"^\s*[-*\u2022]\s+(?:\*\*)?(?P<title>[^*:\n]{2,80}?)(?:\*\*)?\s*:", re.MULTILINE)


def point_back(question: str, history: list[Message]) -> str:
    """The question with "the second one", "number 3" or "the last tip" replaced by the title of that item in
    the latest list the conversation showed ("tell me more about the second one" after the prevention list:
    "tell me more about Improve Flexibility"); the question as it is when it points to no listed item."""
    match = _POINTS_BACK.search(question)
    answers = [m["content"] for m in history if m.get("role") == "assistant"]
    if not match or not answers:
        return question
    # The latest list shown: "and the last one?" after a follow-up about the second one still means the list.
    titles = next(([t.strip() for t in found] for found in map(_LISTED.findall, reversed(answers)) if found), [])
    n = int(match["n"]) if match["n"] else _ORDINALS[match["nth"].lower()]
    if not titles or n > len(titles):
        return question
    title: str = titles[n - 1 if n > 0 else -1]
    return question[: match.start()] + title + question[match.end() :]
