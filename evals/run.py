"""The evaluation: ``python -m evals`` or ``hip-assistant eval``.

Runs the article's FAQ questions (parsed from the corpus, asked verbatim and
paraphrased), the dev, test and held-out question sets, the follow-up
conversations and the safety sets through the same ``Assistant`` users get,
with dense, BM25 and hybrid retrieval side by side, and writes
``evals/results/report.md``, ``report.json`` and ``chart.png``. Thresholds
such as ``--min-hit1`` turn it into a gate: it exits 1 when a figure falls
below one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

import assistant  # noqa: F401  (offline environment first)
from assistant.answer import RED_FLAGS, strip_markers
from assistant.core import Assistant
from assistant.embeddings import embed_query, embed_texts, load_embeddings
from assistant.feedback import FeedbackStore, standing, summarize
from assistant.history import condense, normalize_history
from assistant.settings import PROJECT_ROOT, Settings, load_settings

from . import bench, blind, metrics
from .report import write_chart, write_markdown

DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("hybrid", "dense", "bm25")
SAFETY_SETS = {
    "red flags (tuning)": "safety_red_flags.jsonl",
    "red flags (test)": "safety_red_flags_test.jsonl",
    "held-out (blind at first run)": "holdout/safety_holdout.jsonl",
    "hard dev (helper-written, tuned on)": "safety_dev_hard.jsonl",
    "hard dev 3 (helper-written, tuned on)": "safety_dev3.jsonl",
    "negated": "safety_negated.jsonl",
    "benign": "safety_benign.jsonl",
    "benign (test)": "safety_benign_test.jsonl",
    "care questions": "safety_care_questions.jsonl",
}
FAST_SAFETY_SETS = ("red flags (tuning)", "negated", "benign", "care questions")


def load(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


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


class Progress:
    """One bar for the whole run, labelled with the current stage."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = tqdm(total=total, desc="eval", unit="q", disable=not enabled, file=sys.stderr)

    def stage(self, name: str) -> None:
        self.bar.set_description(name)

    def step(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


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
        sources = {d.source: d.text for d in _documents(base)}
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
        comparison = self._comparison_sample(dev, faq) if self.answerers else []
        total += len(comparison) * (len(self.answerers) + 1)
        bar = Progress(total, self.show_progress)
        report: dict = {"meta": self._meta(), "definitions": metrics.DEFINITIONS}
        try:
            report["retrieval"] = self._retrieval(base, in_scope, followups, bar)
            report["answers"], report["abstention"] = self._answers(
                bots, answer_modes, question_sets, holdout, sources, bar
            )
            report["composition"] = self._composition(base, bar)
            report["scope"] = self._scope(base, bar)
            report["red_flags"] = self._red_flags(base, safety_sets, bar)
            report["safety_blind"] = self._safety_blind(base, bar)
            report["latency"] = self._latency(base, dev, bar)
            report["feedback"] = self._feedback()
            if self.answerers:
                report["answerers"] = self._compare_answerers(base, comparison, sources, bar)
                report["verdict"] = verdict(report["answerers"], self.settings.answerer)
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

    def _retrieval(self, bot: Assistant, in_scope: dict, followups: list[dict], bar: Progress) -> dict:
        out: dict = {}
        for name, rows in in_scope.items():
            bar.stage(f"retrieval: {name}")
            vectors = embed_texts(bot.embeddings, [r["question"] for r in rows])
            ranks: dict[str, list] = {m: [] for m in MODES}
            for row, vector in zip(rows, vectors, strict=True):
                for mode in MODES:
                    ids = [h.chunk_id for h in bot.ranker.rank(row["question"], vector, mode=mode, k=10)]
                    ranks[mode].append(metrics.rank_of(ids, row["expect"]))
                bar.step()
            out[name] = {m: metrics.retrieval_scores(r) for m, r in ranks.items()}
        bar.stage("retrieval: follow-ups")
        ranks = {"with history": [], "without history": []}
        for row in followups:
            history = normalize_history(row["history"], limit=self.settings.max_question_chars, max_messages=40)
            for label, query in (
                ("with history", condense(row["question"], history)),
                ("without history", row["question"]),
            ):
                ids = [h.chunk_id for h in bot.ranker.rank(query, embed_query(bot.embeddings, query), k=10)]
                ranks[label].append(metrics.rank_of(ids, row["expect"]))
            bar.step()
        out["follow-ups (hybrid)"] = {k: metrics.retrieval_scores(v) for k, v in ranks.items()}
        return out

    def _answers(self, bots, modes, question_sets, holdout, sources, bar) -> tuple[dict, dict]:
        answers: dict = {}
        abstention: dict = {}
        for mode in modes:
            bot = bots[mode]
            label = f"{bot.settings.answerer} + {mode}"
            tally: Counter = Counter()
            f1, sims = [], []
            for set_name, rows in [*question_sets.items(), *([("held-out", holdout)] if holdout else [])]:
                bar.stage(f"answers: {label}: {set_name}")
                counts: Counter = Counter()
                for row in rows:
                    answer = bot.ask(row["question"])
                    bar.step()
                    good, n = metrics.citation_support(answer, sources)
                    tally["cited"] += n
                    tally["cited_ok"] += good
                    good, n = metrics.faithfulness(answer)
                    tally["sentences"] += n
                    tally["sentences_ok"] += good
                    should_abstain = row.get("abstain") or row.get("answerable") is False
                    if should_abstain:
                        kind = row.get("kind", "off_topic")
                        counts[f"{kind}_n"] += 1
                        counts[f"{kind}_ok"] += answer.abstained
                        continue
                    counts["in_scope_n"] += 1
                    counts["false_abstain"] += answer.abstained
                    tally["in_scope"] += 1
                    tally["false_abstain"] += answer.abstained
                    if "must_cite" in row:
                        tally["must_cite_n"] += 1
                        tally["must_cite_ok"] += row["must_cite"].rstrip(".") in strip_markers(answer.text)
                    if "reference" in row:
                        f1.append(metrics.token_f1(answer.text, row["reference"]))
                        sims.append(_similarity(bot, strip_markers(answer.text), row["reference"]))
                if mode == modes[0] or self.fast:
                    abstention[set_name] = _abstention(counts)
            answers[label] = {
                "citation support": _ratio(tally["cited_ok"], tally["cited"]),
                "faithfulness": _ratio(tally["sentences_ok"], tally["sentences"]),
                "must-cite": _ratio(tally["must_cite_ok"], tally["must_cite_n"]),
                "key-fact token F1 (FAQ)": float(np.mean(f1)) if f1 else None,
                "key-fact embedding similarity (FAQ)": float(np.mean(sims)) if sims else None,
                "false abstention": _ratio(tally["false_abstain"], tally["in_scope"]),
                "citations": tally["cited"],
                "sentences": tally["sentences"],
            }
        return answers, abstention

    def _composition(self, bot: Assistant, bar: Progress) -> dict:
        """Answer shapes: item coverage on broad questions (dev, and the blind set), framing in specific answers.

        The blind set's "before" (03121cb) is in ``evals/results/blind_before.json``.
        """
        bar.stage("composition")
        out = {
            "broad (dev)": blind.score_broad(bot, load("questions_broad_dev.jsonl")),
            "broad (dev 2, helper-written)": blind.score_broad(bot, load("questions_broad_dev2.jsonl")),
        }
        blind_set = DATA / "blind" / "broad_questions.jsonl"
        if blind_set.exists():
            out["broad (blind)"] = blind.score_broad(bot, blind.load(blind_set))
        rows = load("questions_dev.jsonl") + ([] if self.fast else load("questions_test.jsonl"))
        out["framing (dev + test)" if not self.fast else "framing (dev)"] = blind.score_framing(bot, rows)
        return out

    def _scope(self, bot: Assistant, bar: Progress) -> dict:
        """Out-of-scope requests and everyday in-scope questions: the dev set (written outside the team, tuned
        on) and the blind set (never tuned on). "before" (03121cb) is in ``evals/results/blind_before.json``."""
        bar.stage("scope")
        out = {
            "scope (dev)": blind.score_scope(bot, load("scope_dev.jsonl")),
            "scope (dev 3, helper-written)": blind.score_scope(bot, load("scope_dev3.jsonl")),
        }
        blind_set = DATA / "blind" / "scope.jsonl"
        if blind_set.exists():
            out["scope (blind)"] = blind.score_scope(bot, blind.load(blind_set))
        return out

    def _safety_blind(self, bot: Assistant, bar: Progress) -> dict:
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
                    blind.load(flags),
                    blind.load(folder / "safety_benign.jsonl"),
                    blind.load(attacks) if attacks.exists() else [],
                )
        return out

    def _comparison_sample(self, dev: list[dict], faq: list[dict]) -> list[dict]:
        """The FAQ questions asked verbatim, then in-scope dev questions spread over the set, `sample` in all."""
        verbatim = [q for q in faq if q["form"] == "verbatim"]
        rest = [q for q in dev if not q.get("abstain")]
        step = max(len(rest) // max(self.sample - len(verbatim), 1), 1)
        return (verbatim + rest[::step])[: self.sample]

    def _compare_answerers(self, base: Assistant, rows: list[dict], sources: dict, bar: Progress) -> dict:
        """Each answerer on the same questions, extractive first: quality, fallbacks and latency."""
        out = {}
        for name in ("extractive", *[a for a in self.answerers if a != "extractive"]):
            bot = base if name == base.settings.answerer else Assistant(self.settings, answerer=name)
            bar.stage(f"answerers: {name}")
            tally: Counter = Counter()
            f1, times = [], []
            for row in rows:
                started = time.perf_counter()
                answer = bot.ask(row["question"])
                times.append((time.perf_counter() - started) * 1000)
                bar.step()
                good, n = metrics.faithfulness(answer)
                tally["sentences"] += n
                tally["sentences_ok"] += good
                good, n = metrics.citation_support(answer, sources)
                tally["cited"] += n
                tally["cited_ok"] += good
                tally["written_by_it"] += answer.answerer == name
                if "must_cite" in row:
                    tally["must_cite_n"] += 1
                    tally["must_cite_ok"] += row["must_cite"].rstrip(".") in strip_markers(answer.text)
                if "reference" in row:
                    f1.append(metrics.token_f1(answer.text, row["reference"]))
            stats = getattr(bot.pipeline.answerer, "stats", Counter())
            out[name] = {
                "questions": len(rows),
                "answered by it (no fallback)": _ratio(tally["written_by_it"], len(rows)),
                "faithfulness": _ratio(tally["sentences_ok"], tally["sentences"]),
                "citation support": _ratio(tally["cited_ok"], tally["cited"]),
                "must-cite": _ratio(tally["must_cite_ok"], tally["must_cite_n"]),
                "key-fact token F1 (FAQ)": float(np.mean(f1)) if f1 else None,
                "latency_ms": metrics.percentiles(times),
                "model sentences": dict(stats),
            }
        return out

    def _red_flags(self, bot: Assistant, sets: dict, bar: Progress) -> dict:
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
                "recall": {c: _ratio(found[c], seen[c]) for c in RED_FLAGS if seen[c]},
                "counts": {c: f"{found[c]}/{seen[c]}" for c in RED_FLAGS if seen[c]},
                "false_alarm_rate": _ratio(alarms, quiet) if quiet else None,
                "answer_quotes_criterion": _ratio(quoted, sum(seen.values())) if seen else None,
                "quiet_messages": quiet,
            }
        return out

    def _latency(self, bot: Assistant, rows: list[dict], bar: Progress) -> dict:
        bar.stage("latency")
        questions = [r["question"] for r in rows]
        measured = bench.warm_latency(bot, questions, rounds=1)
        bar.step(2 * len(questions))
        ask, embed = measured["ask_ms"], measured["embed_ms"]
        # The PyTorch backend as a second baseline (the target was first set against it), timed
        # after the loop above rather than interleaved: two runtimes' thread pools disturb each other.
        torch_embed = bench.embed_latency(load_embeddings(self.settings.embedding_model, "torch"), questions)
        out = {
            "backend": self.settings.embedding_backend,
            "torch_embed_ms": torch_embed,
            "ratio_p50_vs_torch": ask["p50"] / torch_embed["p50"],
            "ask_ms": ask,
            "embed_ms": embed,
            "ratio_p50": ask["p50"] / embed["p50"],
            "ratio_p95": ask["p95"] / embed["p95"],
        }
        if self.measure_startup:
            bar.stage("start-up")
            out["startup_s"] = _fresh_process(_STARTUP_SCRIPT)
            out["model_load_s"] = _fresh_process(_MODEL_LOAD_SCRIPT)
            out["startup_ratio"] = out["startup_s"] / out["model_load_s"]
        return out


_STARTUP_SCRIPT = (
    "import time; t = time.perf_counter(); from assistant import Assistant; "
    "Assistant().ask('How long should I ice my hip?'); print(time.perf_counter() - t)"
)
_MODEL_LOAD_SCRIPT = (
    "import time; t = time.perf_counter(); import assistant; "
    "from assistant.embeddings import load_embeddings; load_embeddings().embed_query('hip'); "
    "print(time.perf_counter() - t)"
)


def _fresh_process(script: str, runs: int = 2) -> float:
    """Best of `runs` fresh interpreters: the least disturbed measurement."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def verdict(answerers: dict, default: str) -> str:
    """A plain sentence: which answerer is better on these questions, and whether the default matches."""

    def score(item):
        a = item[1]
        return (a["must-cite"] or 0) + (a["key-fact token F1 (FAQ)"] or 0) + (a["faithfulness"] or 0)

    ranked = sorted(answerers.items(), key=score, reverse=True)
    (best, b), rest = ranked[0], ranked[1:]
    parts = []
    for name, a in rest:
        speed = a["latency_ms"]["p50"] / b["latency_ms"]["p50"] if b["latency_ms"]["p50"] else float("nan")
        parts.append(
            f"against {name}: must-cite {_fmt(b['must-cite'])} vs {_fmt(a['must-cite'])}, "
            f"FAQ token F1 {_fmt(b['key-fact token F1 (FAQ)'], pct=False)} vs {_fmt(a['key-fact token F1 (FAQ)'], pct=False)}, "
            f"{name} answered without falling back on {_fmt(a['answered by it (no fallback)'])} of questions "
            f"and took {speed:.1f}x as long at p50"
        )
    match = "matches" if best == default else f"does not match (default is '{default}')"
    return f"Better on these questions: **{best}** ({'; '.join(parts)}). The default answerer {match}."


def _fmt(value, pct: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if pct else f"{value:.2f}"


def _documents(bot: Assistant):
    from assistant.corpus import load_corpus

    return load_corpus(bot.settings.corpus_dir)


def _similarity(bot: Assistant, a: str, b: str) -> float:
    if not a.strip():
        return 0.0
    va, vb = embed_texts(bot.embeddings, [a, b])
    return float(va @ vb)


def _ratio(good: int, n: int) -> float | None:
    return good / n if n else None


def _abstention(counts: Counter) -> dict:
    return {
        "off-topic accuracy": _ratio(counts["off_topic_ok"], counts["off_topic_n"]),
        "near-topic accuracy": _ratio(counts["near_topic_ok"], counts["near_topic_n"]),
        "false abstention": _ratio(counts["false_abstain"], counts["in_scope_n"]),
        "n": {
            "off_topic": counts["off_topic_n"],
            "near_topic": counts["near_topic_n"],
            "in_scope": counts["in_scope_n"],
        },
    }


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


# --- gates ---------------------------------------------------------------------

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
    for flag, label, _, kind in GATES:
        parser.add_argument(
            flag, type=float, metavar="X", help=f"exit 1 if {label} is {'below' if kind == 'min' else 'above'} X"
        )
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
