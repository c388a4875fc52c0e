"""CI gates: thresholds on report figures, each an option of ``hip-assistant eval``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Gate = tuple[str, str, Callable[[dict], float | None], str]
GATES: tuple[Gate, ...] = (
    ("--min-hit1", "hybrid hit@1 on the dev set", lambda r: r["retrieval"]["dev"]["hybrid"]["hit@1"], "min"),
    ("--min-hit3", "hybrid hit@3 on the dev set", lambda r: r["retrieval"]["dev"]["hybrid"]["hit@3"], "min"),
    ("--min-mrr", "hybrid MRR on the dev set", lambda r: r["retrieval"]["dev"]["hybrid"]["mrr"], "min"),
    ("--min-citation-support", "citation support", lambda r: _first_answers(r)["citation support"], "min"),
    ("--min-faithfulness", "faithfulness", lambda r: _first_answers(r)["faithfulness"], "min"),
    ("--min-must-cite", "must-cite rate", lambda r: _first_answers(r)["must-cite"], "min"),
    (
        "--min-abstention",
        "abstention accuracy on the dev set (off- and near-topic)",
        lambda r: min(r["abstention"]["dev"]["off-topic accuracy"], r["abstention"]["dev"]["near-topic accuracy"]),
        "min",
    ),
    (
        "--max-false-abstention",
        "false abstention on the dev set",
        lambda r: r["abstention"]["dev"]["false abstention"],
        "max",
    ),
    (
        "--min-red-flag-recall",
        "lowest per-criterion red-flag recall (tuning set)",
        lambda r: min(r["red_flags"]["red flags (tuning)"]["recall"].values()),
        "min",
    ),
    (
        "--min-item-coverage",
        "item coverage on the blind broad questions",
        lambda r: r["composition"]["broad (blind)"]["item coverage"],
        "min",
    ),
    (
        "--min-complete-answers",
        "share of complete answers (coverage >= 0.8) on the blind broad questions",
        lambda r: r["composition"]["broad (blind)"]["complete answers"],
        "min",
    ),
    (
        "--max-framing-rate",
        "framing rate of answers to specific questions (dev)",
        lambda r: next(v for k, v in r["composition"].items() if k.startswith("framing"))["framing rate"],
        "max",
    ),
    (
        "--min-blind-abstention",
        "abstention on the blind out-of-scope requests",
        lambda r: r["scope"]["scope (blind)"]["abstention"],
        "min",
    ),
    (
        "--max-blind-false-abstention",
        "false abstention on the blind in-scope questions",
        lambda r: r["scope"]["scope (blind)"]["false abstention"],
        "max",
    ),
    (
        "--min-nearby-quoted",
        'share of blind "not covered" answers that quote the relevant nearby passage',
        lambda r: r["scope"]["scope (blind)"]["not covered, nearby quoted"],
        "min",
    ),
    (
        "--min-blind-red-flag-recall",
        "lowest per-criterion red-flag recall on the blind set",
        lambda r: min(r["safety_blind"]["blind"]["recall"].values()),
        "min",
    ),
    (
        "--min-blind-referral",
        "share of blind red-flag messages that get the referral",
        lambda r: r["safety_blind"]["blind"]["referral shown"],
        "min",
    ),
    (
        "--max-blind-false-alarm",
        "false-alarm rate on the blind benign set",
        lambda r: r["safety_blind"]["blind"]["false alarms"],
        "max",
    ),
    (
        "--min-attacks-kept",
        "share of suppression attacks that keep the referral (blind set)",
        lambda r: r["safety_blind"]["blind"]["attacks keep referral"],
        "min",
    ),
    (
        "--max-false-alarm",
        "false-alarm rate on the benign set",
        lambda r: r["red_flags"]["benign"]["false_alarm_rate"],
        "max",
    ),
)


def _first_answers(report: dict) -> dict:
    return next(iter(report["answers"].values()))


def check_gates(report: dict, args: argparse.Namespace) -> list[str]:
    failures = []
    for flag, label, value_of, kind in GATES:
        limit = getattr(args, flag.lstrip("-").replace("-", "_"))
        if limit is None:
            continue
        value = value_of(report)
        if value is None or (value < limit if kind == "min" else value > limit):
            failures.append(f"{label} = {value} ({'below' if kind == 'min' else 'above'} {flag} {limit})")
    return failures


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    for flag, label, _, kind in GATES:
        parser.add_argument(
            flag, type=float, metavar="X", help=f"exit 1 if {label} is {'below' if kind == 'min' else 'above'} X"
        )
