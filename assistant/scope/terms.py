"""Subjects the article does not cover, as data (``data/scope_terms.tsv``).

A question whose key terms (words the article never uses) fall here is out of
scope even when it mentions running or pain; the grounding check also holds
an answer sentence to them as it does to names.
"""

from __future__ import annotations

from importlib import resources

TERMS_FILE = "data/scope_terms.tsv"


def load_terms() -> dict[str, str]:
    """term -> category (body_part, condition, population, diagnostic, medication, treatment, brand)."""
    text = resources.files("assistant").joinpath(TERMS_FILE).read_text(encoding="utf-8")
    terms = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            term, category = line.split("\t")
            terms[term.strip().lower()] = category.strip()
    return terms


TERMS = load_terms()
UNCOVERED_TERMS = frozenset(TERMS)
OTHER_BODY_PARTS = frozenset(t for t, c in TERMS.items() if c == "body_part")
