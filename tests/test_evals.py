"""The evaluation script and the support check it shares with the generative answerers."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from assistant.answer import Answer, Citation
from assistant.feedback import FeedbackStore, Vote
from assistant.grounding import is_supported
from evals import metrics
from evals.gates import GATES, check_gates

CHUNK = (
    "Rest and Ice: The first line of defense against hip pain is rest. Avoid activities that exacerbate the pain "
    "and apply ice to the affected area for 15-20 minutes several times a day to reduce inflammation."
)


@pytest.mark.parametrize(
    ("sentence", "supported"),
    [
        ("The first line of defense against hip pain is rest [1].", True),
        ("Apply ice to the affected area for 15-20 minutes several times a day [1].", True),
        ("Ice the painful area for 15-20 minutes a few times a day to reduce inflammation.", True),
        ("Apply ice for 30 minutes every hour.", False),  # a number the chunk does not state
        ("Take 400 mg of ibuprofen with the ice.", False),
        ("Stretch your hamstrings before every run.", False),
        ("", False),
    ],
)
def test_support_check(sentence, supported):
    assert is_supported(sentence, CHUNK) is supported


def test_faithfulness_counts_only_marked_sentences():
    citation = Citation(1, "x", "Treatment", CHUNK, quotes=())
    answer = Answer(
        text="The article doesn't give doses. Here is what it does say. "
        "The first line of defense against hip pain is rest [1]. Ice for an hour [1].",
        citations=[citation],
    )
    assert metrics.faithfulness(answer) == (1, 2)


def test_token_f1_and_retrieval_scores():
    assert metrics.token_f1("rest and ice [1]", "Rest and ice.") == 1.0
    assert metrics.token_f1("swimming", "rest") == 0.0
    scores = metrics.retrieval_scores([0, 2, None, 1])
    assert scores["hit@1"] == 0.25 and scores["hit@3"] == 0.75
    assert scores["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 4)


def _report(hit1: float) -> dict:
    return {
        "retrieval": {"dev": {"hybrid": {"hit@1": hit1, "hit@3": 0.9, "mrr": 0.8}}},
        "answers": {"extractive + hybrid": {"citation support": 1.0, "faithfulness": 1.0, "must-cite": 0.8}},
        "abstention": {"dev": {"off-topic accuracy": 1.0, "near-topic accuracy": 0.9, "false abstention": 0.0}},
        "red_flags": {"red flags (tuning)": {"recall": {"a": 1.0}}, "benign": {"false_alarm_rate": 0.02}},
    }


def test_gates_fail_below_threshold_and_pass_above():
    names = {flag.lstrip("-").replace("-", "_"): None for flag, *_ in GATES}
    args = argparse.Namespace(**{**names, "min_hit1": 0.8, "max_false_alarm": 0.05})
    assert check_gates(_report(0.85), args) == []
    failures = check_gates(_report(0.7), args)
    assert len(failures) == 1 and "hit@1" in failures[0]


@pytest.mark.slow
def test_fast_eval_writes_report_json_and_chart_and_gates(tmp_path, index_dir, bot, settings):
    votes = tmp_path / "votes"
    question = "How long should I ice my hip?"
    FeedbackStore(votes).add(Vote("a1", "down", question, bot.ask(question).to_dict(), ("wrong_source",)), settings)
    env = {"HIP_INDEX_DIR": str(index_dir), "HIP_FEEDBACK_DIR": str(votes), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "evals", "--fast", "--no-progress", "--out", str(tmp_path)]
    # One run: a gate it passes and one it cannot; the outputs are written either way.
    done = subprocess.run(
        [*run, "--min-hit3", "0.5", "--min-hit1", "0.999"], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "GATE FAILED: hybrid hit@1" in done.stderr and "hit@3" not in done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["retrieval"]["dev"]) == {"hybrid", "dense", "bm25"}
    assert report["gates"]["failed"] and report["retrieval"]["dev"]["hybrid"]["hit@3"] >= 0.5
    assert (tmp_path / "chart.png").stat().st_size > 10_000
    markdown = (tmp_path / "report.md").read_text()
    assert "## Retrieval" in markdown and "## Scope" in markdown
    assert report["feedback"]["down"] == 1 and report["feedback"]["down_reasons"] == {"wrong_source": 1}
    assert "(0 up, 1 down). Why answers were voted down: wrong source 1." in markdown
    blind_scope = report["scope"]["scope (blind)"]
    assert blind_scope["out of scope"] > 50 and 0.0 <= blind_scope["abstention"] <= 1.0
    assert set(blind_scope["abstention by kind"]) >= {"task", "answer_type", "off_topic"}


def test_every_safety_set_names_criteria_by_the_safety_layers_names():
    """The report reads each set's labels as criteria (``evals.red_flags``): a helper's "nerve" for
    "nerve_symptoms" failed the full evaluation once."""
    from assistant.answer import RED_FLAGS
    from evals.datasets import SAFETY_SETS, load

    for name in SAFETY_SETS.values():
        labels = {c for row in load(name) for c in row["expect"]}
        assert labels <= set(RED_FLAGS), (name, labels - set(RED_FLAGS))
