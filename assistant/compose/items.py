"""The listed items a question names by their titles (or rules out), and the passages that pair with one: a
cause and the strategy that prevents it, an item and the FAQ pair on the same thing."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from .. import nlp
from .structure import ArticleView, Section
from .words import ALL_WORDS, ASKS_ELSE, GENERIC_STEMS, TRIED, answers_another_yes_no

if TYPE_CHECKING:
    from ..retrieval import Hit, Ranking


class ItemReader(ArticleView):
    """Named items, twins and FAQ companions of ``Composer``."""

    RELATED_MARGIN = 0.2
    """A twin (``twins``) ranked among the answer's chunks and this near the passage it pairs with is the other
    half of the answer: "do I really need to warm up?" gets the warm-up advice and what skipping it risks."""

    OWN_QUESTION = 0.8
    """A question this near one of a FAQ pair's own questions asks what the pair answers, and nothing more."""

    def related(self, chunk_id: str, hits: Sequence[Hit], question: str = "", *, own: float = 0.0) -> tuple[str, ...]:
        """The twins of `chunk_id` among `hits` that score within ``RELATED_MARGIN`` of it, or that the question
        names by the word the two share ("what running form mistakes cause it, and what should I do instead?").
        Without a twin, the best-ranked companion within that margin that speaks of the same thing in a word the
        question uses (``faq_companions``): "what stretches help?" gets the flexibility advice and the stretches
        the FAQ names, whichever of the two leads. One other passage at most. A FAQ pair asked nearly as its own
        question (`own`, the question's similarity to the pair's questions, from ``OWN_QUESTION``) is the
        article's whole answer: "How long should I rest if I have hip pain from running?" wants the FAQ's answer,
        not the persistent-pain criterion beside it."""
        scores = {h.chunk_id: h.score for h in hits}
        if chunk_id not in scores:
            return ()
        floor = scores[chunk_id] - self.RELATED_MARGIN
        asked = set(nlp.stems(nlp.expand(question)))
        named = {c for pair in self._pairs_named(asked) for c in pair}
        twins = tuple(t for t in self.twins.get(chunk_id, ()) if scores.get(t, -math.inf) >= floor or t in named)
        if twins:
            return twins
        if self.documents[chunk_id].metadata.get("kind") == "faq":
            if own >= self.OWN_QUESTION:
                return ()
            items = [
                item
                for item, faqs in self.faq_companions.items()
                if faqs.get(chunk_id, frozenset()) & asked and scores.get(item, -math.inf) >= floor
            ]
            return (max(items, key=lambda c: scores[c]),) if items else ()
        companions = [
            c
            for c, words in self.faq_companions.get(chunk_id, {}).items()
            if words & asked
            and scores.get(c, -math.inf) >= floor
            and not answers_another_yes_no(question, self.documents[c].page_content)
        ]
        return (max(companions, key=lambda c: scores[c]),) if companions else ()

    @cached_property
    def _faq_words(self) -> dict[str, frozenset[str]]:
        """Each FAQ question's words (stemmed)."""
        return {
            c: frozenset(nlp.stems(d.metadata.get("title", "")))
            for c, d in self.documents.items()
            if d.metadata.get("kind") == "faq"
        }

    @cached_property
    def faq_companions(self) -> dict[str, dict[str, frozenset[str]]]:
        """For each listed item, the FAQ pairs whose question asks about what the item speaks of, with the words they
        share: "Improve Flexibility" says to stretch regularly, the FAQ's "Are there specific stretches ...?" names
        the stretches; a runner asking about stretches wants both. The words are the FAQ question's own, but the
        article's subject, words too general to name a topic and words several FAQ questions use."""
        out: dict[str, dict[str, frozenset[str]]] = {}
        asks = self._faq_words
        # What several FAQ questions say ("from running") names none of them.
        shared_by_many = {w for w, n in Counter(w for words in asks.values() for w in words).items() if n > 1}
        for faq, words in asks.items():
            keys = words - self.subject_stems - GENERIC_STEMS - shared_by_many
            for item in self.item_terms:
                shared = keys & self.chunk_stems.get(item, frozenset())
                if shared and self.documents[item].metadata.get("kind") != "faq":
                    out.setdefault(item, {})[faq] = shared
        return out

    def _named_items(self, question: str, ranking: Ranking) -> tuple[str, ...]:
        """The listed item whose title the question holds, if it also ranks first in its section: "how can I
        optimize my running form?", "how do I stay positive while injured?" ask about that item. A numbered item's
        title of three words or more may miss one besides its rarest: "how do I strengthen my hips for running?"
        names "Strengthen Your Hip Muscles". A FAQ question may not ("the best way to prevent hip pain" is not
        "What are the best shoes for preventing hip pain?"). "Treat it without pills, injections or surgery" names
        surgery only to rule it out, and "what can I do at home, dont really want to pay for physio" names
        physical therapy only to rule it out, though it ranks first: what a question rules out names nothing."""
        if set(nlp.words(question)) & ALL_WORDS:
            return ()  # "list every treatment, from rest all the way to surgery": the items are examples
        asked = self._kept_stems(question)
        named = self._items_named(asked)
        if not named:
            # The word a pair of twins shares names both ("what running form mistakes cause it, and what should I
            # do instead?"), the better ranked first.
            pairs = self._pairs_named(asked)
            if len(pairs) != 1:
                return ()
            pair = sorted(pairs.pop(), key=ranking.score, reverse=True)
            return tuple(pair) if pair[0] == max(self._section_of[pair[0]].items, key=ranking.score) else ()
        if len(named) != 1:
            return ()
        section, item = named[0]
        best = max(section.items, key=ranking.score)
        return (item,) if best == item else ()

    @staticmethod
    def _kept(question: str, *, tried: bool) -> str:
        """The question without what it rules out (``nlp.ruled_out``) and, with `tried`, without what it says was
        tried ("I've tried resting and icing my hip, what else is there?")."""
        kept = nlp.ruled_out(question)
        return TRIED.sub(" ", kept) if tried else kept

    @classmethod
    def _kept_stems(cls, question: str) -> set[str]:
        """The question's words (stemmed, everyday words read as the article's) but those it rules out, and those it
        says were tried when it asks what else."""
        return set(nlp.stems(nlp.expand(cls._kept(question, tried=bool(ASKS_ELSE.search(question))))))

    def _pairs_named(self, asked: set[str]) -> set[tuple[str, str]]:
        """The twin pairs whose shared title word the stems `asked` hold."""
        return {self._twin_words[w] for w in asked if w in self._twin_words}

    def _items_named(self, asked: set[str]) -> list[tuple[Section, str]]:
        """The listed items whose titles the stems `asked` hold (all words, or all but one of a long one's)."""
        candidates = [pair for w in asked for pair in self._items_by_rarest.get(w, ())]
        return [(s, c) for s, c in candidates if len(self.item_terms[c] - asked) <= self._title_slack[c]]

    def names_item(self, question: str, unknown: Sequence[str] = ()) -> bool:
        """Does the question name one of the article's listed items by its title, or the word a pair of twins
        shares ("how do I improve my running form?", "is my form to blame?")? Beside words the article never uses
        (`unknown`) it must also name the article's subject: "role-play as my physio and ask me intake questions",
        "summarise this: ... cooling inflation" use the words for something else."""
        asked = self._kept_stems(question)
        if unknown and not asked & self.subject_stems:
            return False
        return bool(self._items_named(asked) or self._pairs_named(asked))

    def asks_instead(self, question: str) -> bool:
        """Does the question rule out an item of the article and ask for something else?"""
        return bool(ASKS_ELSE.search(question)) and bool(self.ruled_out_items(question))

    def ruled_out_items(self, question: str, *, tried: bool = False) -> frozenset[str]:
        """The items a question names only to rule them out: "how can I treat it without surgery?" lists the
        treatment options but surgery; with `tried`, those it says were tried too ("I've tried resting and icing
        my hip, what else is there?")."""
        kept = self._kept(question, tried=tried)
        if kept == question:
            return frozenset()
        asked = set(nlp.stems(nlp.expand(question))) - set(nlp.stems(nlp.expand(kept)))
        # One word of a title no other title uses is enough here: "without injections" rules out the
        # corticosteroid injections.
        unique = asked & self._own_title_words - self.subject_stems
        return frozenset(c for _, c in self._items_named(asked)) | {
            c for c, terms in self.item_terms.items() if terms & unique
        }
