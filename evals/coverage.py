"""The report's composition and scope sections: item coverage on broad questions, framing in specific answers,
abstention and false abstention on the scope sets."""

from __future__ import annotations

from collections.abc import Callable

from assistant.core import Assistant

from . import blind
from .datasets import DATA, load, read_jsonl
from .progress import Progress


def composition(bot: Assistant, bar: Progress, *, fast: bool) -> dict:
    """Answer shapes: item coverage on broad questions (dev, and the blind set), framing in specific answers.

    The blind set's "before" (03121cb) is in ``evals/results/blind_before.json``; the second, fresh one's (c6ce4b5,
    the code it was written against) in ``evals/results/blind_fresh_broad_before.json``.
    """
    bar.stage("composition")
    out = {
        "broad (dev)": blind.score_broad(bot, load("questions_broad_dev.jsonl")),
        "broad (dev 2, helper-written)": blind.score_broad(bot, load("questions_broad_dev2.jsonl")),
        "broad (dev 3, helper-written)": blind.score_broad(bot, load("questions_broad_dev3.jsonl")),
        "broad (dev 4, helper-written)": blind.score_broad(bot, load("questions_broad_dev4.jsonl")),
        "broad (dev 5, helper-written)": blind.score_broad(bot, load("questions_broad_dev5.jsonl")),
        "broad (dev 6, helper-written)": blind.score_broad(bot, load("questions_broad_dev6.jsonl")),
        "broad (dev 7, helper-written)": blind.score_broad(bot, load("questions_broad_dev7.jsonl")),
        "broad (dev 8, helper-written)": blind.score_broad(bot, load("questions_broad_dev8.jsonl")),
        "broad (dev 9, helper-written)": blind.score_broad(bot, load("questions_broad_dev9.jsonl")),
        "broad (dev 10, helper-written)": blind.score_broad(bot, load("questions_broad_dev10.jsonl")),
        "broad (dev 11, helper-written)": blind.score_broad(bot, load("questions_broad_dev11.jsonl")),
        "broad (dev 12, helper-written)": blind.score_broad(bot, load("questions_broad_dev12.jsonl")),
        "broad (dev 13, helper-written)": blind.score_broad(bot, load("questions_broad_dev13.jsonl")),
        "broad (dev 14, helper-written)": blind.score_broad(bot, load("questions_broad_dev14.jsonl")),
        "broad (dev 15, helper-written)": blind.score_broad(bot, load("questions_broad_dev15.jsonl")),
        "broad (dev 16, helper-written)": blind.score_broad(bot, load("questions_broad_dev16.jsonl")),
        "broad (dev 17, helper-written)": blind.score_broad(bot, load("questions_broad_dev17.jsonl")),
        "broad (dev 18, helper-written)": blind.score_broad(bot, load("questions_broad_dev18.jsonl")),
    }
    out.update(_blind_sets(bot, blind.score_broad, "broad", "broad_questions.jsonl"))
    rows = load("questions_dev.jsonl") + ([] if fast else load("questions_test.jsonl"))
    out["framing (dev + test)" if not fast else "framing (dev)"] = blind.score_framing(bot, rows)
    return out


def scope(bot: Assistant, bar: Progress) -> dict:
    """Out-of-scope requests and everyday in-scope questions: the dev sets (written outside the team, tuned
    on) and the two blind sets (never tuned on). "before" (03121cb) is in ``evals/results/blind_before.json``."""
    bar.stage("scope")
    out = {
        "scope (dev)": blind.score_scope(bot, load("scope_dev.jsonl")),
        "scope (dev 3, helper-written)": blind.score_scope(bot, load("scope_dev3.jsonl")),
        "scope (dev 4, helper-written)": blind.score_scope(bot, load("scope_dev4.jsonl")),
        "scope (dev 5, helper-written)": blind.score_scope(bot, load("scope_dev5.jsonl")),
        "scope (dev 6, helper-written)": blind.score_scope(bot, load("scope_dev6.jsonl")),
    }
    out.update(_blind_sets(bot, blind.score_scope, "scope", "scope.jsonl"))
    return out


def _blind_sets(bot: Assistant, score: Callable[[Assistant, list[dict]], dict], name: str, file: str) -> dict:
    """The blind set and the second, fresh one of one kind, where they exist, scored under "<name> (blind)" and
    "<name> (blind, second fresh)"."""
    out = {}
    for label, folder in (("blind", DATA / "blind"), ("blind, second fresh", DATA / "blind" / "fresh")):
        if (folder / file).exists():
            out[f"{name} ({label})"] = score(bot, read_jsonl(folder / file))
    return out
