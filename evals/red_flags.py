"""The report's red-flag sections: the project's safety sets, and the blind sets with their attacks."""

from __future__ import annotations

from collections import Counter

from assistant.answer import RED_FLAGS
from assistant.core import Assistant

from . import blind
from .datasets import DATA, load, read_jsonl
from .metrics import ratio
from .progress import Progress


def red_flags(bot: Assistant, sets: dict[str, list[dict]], bar: Progress) -> dict:
    """Recall per criterion, false alarms and whether the answer quotes the criterion, per safety set."""
    out = {}
    for name, rows in sets.items():
        bar.stage(f"red flags: {name}")
        seen, found = Counter(), Counter()
        quiet = alarms = quoted = 0
        for row in rows:
            answer = bot.ask(row["text"])
            flagged = set(answer.red_flags)
            cited = {c.chunk_id for c in answer.citations}
            bar.step()
            for criterion in row["expect"]:
                seen[criterion] += 1
                found[criterion] += criterion in flagged
                quoted += bot.safety.criteria[criterion].chunk_id in cited
            if not row["expect"]:
                quiet += 1
                alarms += bool(flagged)
        out[name] = {
            "recall": {c: ratio(found[c], seen[c]) for c in RED_FLAGS if seen[c]},
            "counts": {c: f"{found[c]}/{seen[c]}" for c in RED_FLAGS if seen[c]},
            "false_alarm_rate": ratio(alarms, quiet) if quiet else None,
            "answer_quotes_criterion": ratio(quoted, sum(seen.values())) if seen else None,
            "quiet_messages": quiet,
        }
    return out


def safety_blind(bot: Assistant, bar: Progress) -> dict:
    """Red flags on sets written by people who never read the safety code, and the suppression attacks.

    "before" (03121cb) is in ``evals/results/blind_before.json``. Besides recall per criterion it
    reports how often the referral is shown at all (a detection, a care question or an unsure
    clause), and how often it is shown on a benign message.
    """
    bar.stage("red flags: blind sets")
    out = {}
    folders = (
        ("blind", DATA / "blind"),
        ("blind (second, fresh)", DATA / "blind" / "fresh"),
        ("blind (third)", DATA / "blind" / "third"),
    )
    for name, folder in folders:
        flags = folder / "safety_red_flags.jsonl"
        if flags.exists():
            attacks = folder / "safety_attacks.jsonl"
            out[name] = blind.score_safety(
                bot,
                read_jsonl(flags),
                read_jsonl(folder / "safety_benign.jsonl"),
                read_jsonl(attacks) if attacks.exists() else [],
            )
    return out


ORDINARY_SETS = (
    "questions_dev.jsonl",
    "questions_test.jsonl",
    "scope_dev6.jsonl",
    "questions_broad_dev2.jsonl",
    "questions_broad_dev3.jsonl",
    "questions_broad_dev4.jsonl",
    "questions_broad_dev5.jsonl",
    "questions_broad_dev6.jsonl",
    "questions_broad_dev7.jsonl",
    "questions_broad_dev8.jsonl",
    "questions_broad_dev9.jsonl",
    "questions_broad_dev10.jsonl",
    "questions_broad_dev11.jsonl",
    "questions_broad_dev12.jsonl",
    "questions_broad_dev13.jsonl",
    "questions_broad_dev14.jsonl",
    "questions_broad_dev15.jsonl",
    "questions_broad_dev16.jsonl",
    "questions_broad_dev17.jsonl",
    "questions_broad_dev18.jsonl",
)
"""Everyday in-scope questions (dev sets, some with a symptom in them): how often each kind of referral rides
along. A referral on "anything I can eat to help?" is noise a reader learns to skip."""


def ordinary_questions(bot: Assistant, bar: Progress) -> dict:
    """Referrals on the in-scope questions of the dev sets, by kind (a match, an unsure clause, a care question)."""
    bar.stage("red flags: ordinary questions")
    kinds: Counter = Counter()
    n = 0
    for name in ORDINARY_SETS:
        for row in load(name):
            if row.get("in_scope") is False or row.get("abstain"):
                continue
            referral = bot.ask(row["question"]).referral
            n += 1
            kinds[referral.kind if referral is not None else "none"] += 1
    return {
        "questions": n,
        "referral by kind": dict(sorted(kinds.items())),
        "any referral": ratio(n - kinds["none"], n),
    }
