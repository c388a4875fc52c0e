"""Where the evaluation's question sets live and how they are read (JSON lines, one row a line).

Standard library only: ``evals.blind`` reads through here while it scores an older checkout.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
SAFETY_SETS = {
    "red flags (tuning)": "safety_red_flags.jsonl",
    "red flags (test)": "safety_red_flags_test.jsonl",
    "held-out (blind at first run)": "holdout/safety_holdout.jsonl",
    "hard dev (helper-written, tuned on)": "safety_dev_hard.jsonl",
    "hard dev 3 (helper-written, tuned on)": "safety_dev3.jsonl",
    "hard dev 4 (helper-written, tuned on)": "safety_dev4.jsonl",
    "hard dev 5 (helper-written, tuned on)": "safety_dev5.jsonl",
    "hard dev 6 (helper-written, tuned on)": "safety_dev6.jsonl",
    "hard dev 7 (helper-written, tuned on)": "safety_dev7.jsonl",
    "hard dev 8 (helper-written, tuned on)": "safety_dev8.jsonl",
    "hard dev 9 (helper-written, tuned on)": "safety_dev9.jsonl",
    "hard dev 10 (helper-written, tuned on)": "safety_dev10.jsonl",
    "hard dev 11 (helper-written, tuned on)": "safety_dev11.jsonl",
    "hard dev 12 (helper-written, tuned on)": "safety_dev12.jsonl",
    "hard dev 13 (helper-written, tuned on)": "safety_dev13.jsonl",
    "hard dev 14 (helper-written, tuned on)": "safety_dev14.jsonl",
    "hard dev 15 (helper-written, tuned on)": "safety_dev15.jsonl",
    "hard dev 16 (helper-written, tuned on)": "safety_dev16.jsonl",
    "hard dev 17 (helper-written, tuned on)": "safety_dev17.jsonl",
    "hard dev 18 (helper-written, tuned on)": "safety_dev18.jsonl",
    "hard dev 19 (helper-written, tuned on)": "safety_dev19.jsonl",
    "hard dev 20 (helper-written, tuned on)": "safety_dev20.jsonl",
    "hard dev 21 (helper-written, tuned on)": "safety_dev21.jsonl",
    "hard dev 22 (helper-written, tuned on)": "safety_dev22.jsonl",
    "negated": "safety_negated.jsonl",
    "benign": "safety_benign.jsonl",
    "benign (test)": "safety_benign_test.jsonl",
    "care questions": "safety_care_questions.jsonl",
}
FAST_SAFETY_SETS = ("red flags (tuning)", "negated", "benign", "care questions")


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSON-lines file; blank lines are skipped."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load(name: str) -> list[dict]:
    """A set in ``evals/data/`` by its file name (``holdout/...`` for the held-out sets)."""
    return read_jsonl(DATA / name)
