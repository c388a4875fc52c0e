"""The shape of an answer, decided from the question and the article's structure.

A question that asks for a list ("How do I relieve hip pain?") needs every
item of the section that answers it; a summary needs every section; a
definition needs the sentence that names the term; a specific question needs
its sentence and nothing that only frames the article. The extractive answer
used to be 1-4 sentences near the top chunk whatever the question asked, so
the article's own title question got its introduction.

Two decisions, kept apart:

* **What form the question asks for** (list, summary, definition or specific):
  a logistic regression over the question's embedding, trained at start-up on
  the example questions in ``data/answer_shapes.jsonl``.
* **Which part of the article answers it**: from the structure and the
  ranking, never from question wordings. A section scores its best-ranked
  chunk, the words the question shares with the section's title, how
  close the question is to the section's lead-in (which says what the
  section offers) and to the questions the whole section answers
  (``data/section_questions.jsonl``); a list is only given when no single item of that section
  stands out, else the question is specific after all. Parts of a question
  ("what causes it, and how do I stop it coming back?") that each name a
  section add it after the one that answers the whole question; a summary of
  named sections lists them. A FAQ pair ranked first is the article's own
  answer to the question and stays specific.

The ``Plan`` goes to every answerer: the extractive one renders it (bullets
quoted verbatim, each item its own citation), a generative one gets the plan's
chunks as its excerpts.
"""

from .composer import Composer
from .structure import SHAPES, Plan, Section, Shape, article_sections, load_examples

__all__ = ["SHAPES", "Composer", "Plan", "Section", "Shape", "article_sections", "load_examples"]
