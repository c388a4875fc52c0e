"""Subjects the article does not cover, as data (``data/scope_terms.tsv``).

A question whose key terms (words the article never uses) fall here is out of
scope even when it mentions running or pain; the grounding check also holds
an answer sentence to them as it does to names.
"""

from __future__ import annotations

from .. import datafiles

TERMS_FILE = "scope_terms.tsv"


def load_terms() -> dict[str, str]:
    """term -> category (body_part, condition, population, diagnostic, medication, treatment, brand)."""
    return {term.lower(): category for term, category in datafiles.rows(TERMS_FILE)}


TERMS = load_terms()
UNCOVERED_TERMS = frozenset(TERMS)
OTHER_BODY_PARTS = frozenset(t for t, c in TERMS.items() if c == "body_part")
NEIGHBOURS = frozenset(t for t, c in TERMS.items() if c in ("medication", "brand", "diagnostic", "treatment"))
"""Things on the article's own subject that it never names: the answer says so and quotes its nearest passage
(a drug it does not name sits next to what it says about NSAIDs); another body part or condition gets no quote."""
REQUEST_WORDS = frozenset(datafiles.words("request_words.txt"))
"""Words about the request rather than its subject ("list", "mentioned", "fix"): never a key term the article lacks."""
SUBJECT_WORDS = frozenset(datafiles.words("subject_words.txt"))
"""Everyday words for the article's own subject ("hurts", "aching"): never a key term the article lacks either."""
RUNNING_WORDS = frozenset(datafiles.words("running_words.txt"))
"""Running, its sessions, races, places and shoes: a hip complaint that names one is the article's subject."""
_PLACES = datafiles.rows("hip_words.tsv")
HIP_WORDS = frozenset(word for word, where in _PLACES if where == "hip")
"""The hip by name ("hip", "hips"): a question that names it is about the article's subject."""
AT_HIP = frozenset(word for word, _ in _PLACES)
"""The hip and the parts beside it ("groin", "glutes"): where a reported red flag is still the article's."""
