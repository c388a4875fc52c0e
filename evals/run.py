"""The evaluation: ``python -m evals`` or ``hip-assistant eval``.

Runs the article's FAQ questions (parsed from the corpus, asked verbatim and
paraphrased), the dev, test and held-out question sets, the follow-up
conversations and the safety sets through the same ``Assistant`` users get,
with dense, BM25 and hybrid retrieval side by side, and writes
``evals/results/report.md``, ``report.json`` and ``chart.png``. Thresholds
such as ``--min-hit1`` turn it into a gate (``gates``): it exits 1 when a
figure falls below one. Each section of the report is measured by its own
module: ``quality`` (retrieval, answers, answerers), ``coverage`` (answer
shapes, scope), ``red_flags`` and ``speed``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import assistant  # noqa: F401  (offline environment first)
from assistant.core import Assistant
from assistant.corpus import load_corpus
from assistant.feedback import FeedbackStore, standing, summarize
from assistant.settings import PROJECT_ROOT, Settings, load_settings

from . import bench, coverage, metrics, quality, red_flags, speed
from .datasets import FAST_SAFETY_SETS, RESULTS, SAFETY_SETS, load
from .gates import add_gate_options, check_gates
from .progress import Progress
from .quality import MODES
from .report import write_chart, write_markdown


def faq_items(bot: Assistant) -> list[dict]:
    """The article's FAQ pairs, each asked verbatim and in the paraphrases of evals/data."""
    paraphrases = {row["faq_id"]: row["paraphrases"] for row in load("faq_paraphrases.jsonl")}
    items = []
    for chunk_id, doc in bot.documents.items():
        if doc.metadata.get("kind") != "faq":
            continue
        text = doc.page_content
        answer_at = text.find("A:")
        reference = text[answer_at + 2 :].strip() if answer_at >= 0 else text
        question = doc.metadata["title"]
        items.append({"question": question, "expect": [chunk_id], "reference": reference, "form": "verbatim"})
        for p in paraphrases.get(chunk_id, []):
            items.append({"question": p, "expect": [chunk_id], "reference": reference, "form": "paraphrase"})
    return items


class Evaluation:
    """Everything one report holds, measured in one run."""

    def __init__(
        self,
        settings: Settings,
        *,
        fast: bool,
        progress: bool = True,
        startup: bool = True,
        answerers: tuple[str, ...] = (),
        sample: int = 40,
    ) -> None:
        self.settings = settings
        self.fast = fast
        self.answerers = answerers
        self.sample = sample
        self.measure_startup = startup and not fast
        self.show_progress = progress

    def run(self) -> dict:
        started = time.perf_counter()
        bots = {mode: Assistant(self.settings, retrieval=mode) for mode in MODES}
        base = bots[self.settings.retrieval] if self.settings.retrieval in bots else bots["hybrid"]
        sources = {d.source: d.text for d in load_corpus(base.settings.corpus_dir)}
        dev, test = load("questions_dev.jsonl"), load("questions_test.jsonl")
        short = load("questions_short.jsonl")
        holdout = [] if self.fast else load("holdout/questions_holdout.jsonl")
        faq = faq_items(base)
        followups = load("followups.jsonl")
        question_sets = {"dev": dev, "test": test, "short": short, "faq": faq}
        if self.fast:
            del question_sets["test"]
        safety_sets = {k: load(v) for k, v in SAFETY_SETS.items() if not self.fast or k in FAST_SAFETY_SETS}
        answer_modes = ("hybrid",) if self.fast else MODES

        in_scope = {k: [q for q in v if not q.get("abstain")] for k, v in question_sets.items()}
        total = (
            sum(len(v) for v in in_scope.values())
            + len(followups)
            + len(answer_modes) * (sum(len(v) for v in question_sets.values()) + len(holdout))
            + sum(len(v) for v in safety_sets.values())
            + 2 * len(dev)
        )
        comparison = quality.comparison_sample(dev, faq, self.sample) if self.answerers else []
        total += len(comparison) * (len(self.answerers) + 1)
        bar = Progress(total, self.show_progress)
        report: dict = {"meta": self._meta(), "definitions": metrics.DEFINITIONS}
        try:
            report["retrieval"] = quality.retrieval(base, in_scope, followups, bar)
            report["answers"], report["abstention"] = quality.answers(
                bots, answer_modes, question_sets, holdout, sources, bar, fast=self.fast
            )
            report["composition"] = coverage.composition(base, bar, fast=self.fast)
            report["scope"] = coverage.scope(base, bar)
            report["red_flags"] = red_flags.red_flags(base, safety_sets, bar)
            report["safety_blind"] = red_flags.safety_blind(base, bar)
            report["ordinary_questions"] = red_flags.ordinary_questions(base, bar)
            report["latency"] = speed.latency(base, dev, bar, startup=self.measure_startup)
            report["feedback"] = self._feedback()
            if self.answerers:
                report["answerers"] = quality.compare_answerers(base, self.answerers, comparison, sources, bar)
                report["verdict"] = quality.verdict(report["answerers"], self.settings.answerer)
        finally:
            bar.close()
        report["meta"]["seconds"] = round(time.perf_counter() - started, 1)
        return report

    def _feedback(self) -> dict:
        """The page's standing votes (HIP_FEEDBACK_DIR): how many answers were voted down, and why."""
        store = FeedbackStore(self.settings.feedback_dir)
        lines, unreadable = store.lines()
        folder = store.folder.resolve()
        shown = folder.relative_to(PROJECT_ROOT) if folder.is_relative_to(PROJECT_ROOT) else folder
        return {"folder": str(shown), **summarize(standing(lines), unreadable=unreadable).to_dict()}

    def _meta(self) -> dict:
        def git(*args: str) -> str:
            try:
                return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
            except (OSError, subprocess.CalledProcessError):
                return "unknown"

        config = self.settings.model_dump(mode="json")
        return {
            "commit": git("rev-parse", "--short", "HEAD"),
            # The report's own files are always rewritten; only other changes make the commit inexact.
            "uncommitted_changes": bool(
                git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!evals/results")
            ),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "fast": self.fast,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {_cpu_count()} CPUs",
            "config": {k: v for k, v in config.items() if k not in ("corpus_dir", "index_dir")},
        }


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hip-assistant eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="dev, FAQ and main safety sets only, hybrid answers only")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where report.md/json and chart.png go ({RESULTS})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-startup", action="store_true", help="skip the fresh-process start-up timing")
    parser.add_argument(
        "--answerers",
        default="",
        help="comma-separated generative answerers to compare with the extractive one, e.g. llamacpp",
    )
    parser.add_argument(
        "--bench",
        type=int,
        nargs="?",
        const=10_000,
        metavar="CHUNKS",
        help="also run the benchmarks (evals/bench.py) with a synthetic corpus of CHUNKS chunks (default 10000)",
    )
    parser.add_argument("--sample", type=int, default=40, help="questions in the answerer comparison (default 40)")
    add_gate_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    evaluation = Evaluation(
        load_settings(),
        fast=args.fast,
        progress=not args.no_progress,
        startup=not args.no_startup,
        answerers=tuple(a.strip() for a in args.answerers.split(",") if a.strip()),
        sample=args.sample,
    )
    report = evaluation.run()
    if args.bench:
        print("running the benchmarks", file=sys.stderr)
        report["benchmarks"] = bench.run(args.bench)
        large = RESULTS / bench.LARGE_RUN
        if large.exists():
            # Too long for every report (about 20 minutes): kept from its own run, named with its command.
            report["benchmarks"][f"{bench.LARGE_RUN_COMMAND} (its own run)"] = json.loads(large.read_text())
    failures = check_gates(report, args)
    report["gates"] = {"failed": failures}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_chart(report, args.out / "chart.png")
    write_markdown(report, args.out / "report.md", chart="chart.png")
    print(f"wrote {args.out / 'report.md'}, report.json and chart.png in {report['meta']['seconds']} s")
    for failure in failures:
        print(f"GATE FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0
