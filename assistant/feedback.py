"""Votes on answers: one JSON line per vote, one file per day, read back as a summary or a spreadsheet.

The page writes them, ``hip-assistant feedback`` summarises and exports them,
and the evaluation report counts the answers voted down and why.

Several replicas may share the folder. Each line is written with a single
``write`` to a file opened with ``O_APPEND`` while holding an exclusive
``flock`` on it, so lines are never lost or interleaved, however long a
comment is. A vote carries what is needed to judge the answer (question,
answer, citations, red flags, the settings that shape answers, the package
version, the time) and nothing else about the person.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, get_args

from .errors import HipAssistantError
from .settings import Settings

Rating = Literal["up", "down", "withdrawn"]
Reason = Literal["wrong_source", "missed_warning", "not_what_i_asked", "other"]
RATINGS: tuple[Rating, ...] = get_args(Rating)
REASONS: tuple[Reason, ...] = get_args(Reason)
SETTINGS_RECORDED = (
    "answerer",
    "retrieval",
    "fusion",
    "dense_weight",
    "top_k",
    "max_sentences",
    "embedding_model",
    "embedding_backend",
    "abstain_min_similarity",
    "llm_model_path",
)
"""The settings that change what an answer says; recorded with each vote so it can be reproduced."""
MAX_COMMENT_CHARS = 4000
FILE_PREFIX = "feedback-"
CSV_COLUMNS = (
    "time",
    "answer_id",
    "rating",
    "reasons",
    "comment",
    "question",
    "answer",
    "citations",
    "red_flags",
    "answerer",
    "version",
)


class FeedbackError(HipAssistantError, ValueError):
    """A vote the store cannot record (an unknown rating or reason); the message lists the allowed values."""


def package_version() -> str:
    try:
        return metadata.version("hip-assistant")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Vote:
    """One person's verdict on one answer. A later vote on the same ``answer_id`` replaces the earlier one."""

    answer_id: str
    rating: Rating
    question: str
    answer: dict[str, Any]
    """``Answer.to_dict()`` of the answer voted on."""
    reasons: tuple[Reason, ...] = ()
    comment: str = ""

    def __post_init__(self) -> None:
        if self.rating not in RATINGS:
            raise FeedbackError(f"Unknown rating {self.rating!r}; allowed: {', '.join(RATINGS)}")
        unknown = [r for r in self.reasons if r not in REASONS]
        if unknown:
            raise FeedbackError(f"Unknown reason(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(REASONS)}")


def _answer_record(answer: dict[str, Any]) -> dict[str, Any]:
    """What of an answer a vote keeps: its text, where each [n] points and what it quotes, flags and shape."""
    referral = answer.get("referral") or {}
    return {
        "text": answer.get("text", ""),
        "citations": [
            {k: c.get(k) for k in ("marker", "chunk_id", "section", "title", "quotes")}
            for c in answer.get("citations", ())
        ],
        "red_flags": list(answer.get("red_flags", ())),
        "referral": referral.get("kind"),
        "abstained": bool(answer.get("abstained")),
        "shape": answer.get("shape", ""),
        "answerer": answer.get("answerer", ""),
    }


def _settings_record(settings: Settings) -> dict[str, Any]:
    values = settings.model_dump(include=set(SETTINGS_RECORDED))
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


class FeedbackStore:
    """The folder of vote files (``feedback-YYYY-MM-DD.jsonl``, UTC days)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def add(self, vote: Vote, settings: Settings, *, now: datetime | None = None) -> dict[str, Any]:
        """Append the vote as one line and return it as written."""
        now = now or datetime.now(UTC)
        comment = vote.comment.strip()
        line = {
            "id": uuid.uuid4().hex,
            "time": now.isoformat(timespec="seconds"),
            "answer_id": vote.answer_id,
            "rating": vote.rating,
            "reasons": list(dict.fromkeys(vote.reasons)),
            "comment": comment[:MAX_COMMENT_CHARS],
            "comment_truncated": len(comment) > MAX_COMMENT_CHARS,
            "question": vote.question,
            "answer": _answer_record(vote.answer),
            "settings": _settings_record(settings),
            "version": package_version(),
        }
        self._append(self.folder / f"{FILE_PREFIX}{now:%Y-%m-%d}.jsonl", line)
        return line

    @staticmethod
    def _append(path: Path, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)  # closing releases the lock

    def lines(self) -> tuple[list[dict[str, Any]], int]:
        """Every line of every file in time order, and how many lines could not be read."""
        records, bad = [], 0
        for path in sorted(self.folder.glob(f"{FILE_PREFIX}*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                for raw in handle:
                    try:
                        record = json.loads(raw)
                    except json.JSONDecodeError:
                        bad += 1
                        continue
                    if isinstance(record, dict) and record.get("rating") in RATINGS:
                        records.append(record)
                    else:
                        bad += 1
        records.sort(key=lambda r: r.get("time", ""))
        return records, bad

    def votes(self) -> list[dict[str, Any]]:
        """The standing vote per answer: its latest line, without withdrawn ones."""
        return standing(self.lines()[0])


def standing(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of vote lines in time order, the latest per answer, without withdrawn ones."""
    latest = {r.get("answer_id") or r["id"]: r for r in lines}
    return [r for r in latest.values() if r["rating"] != "withdrawn"]


@dataclass
class Summary:
    """What the votes say: how many up and down, and why answers were voted down."""

    up: int = 0
    down: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    recent_down: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.up + self.down

    def to_dict(self) -> dict[str, Any]:
        return {
            "votes": self.total,
            "up": self.up,
            "down": self.down,
            "down_reasons": dict(self.reasons.most_common()),
            "unreadable_lines": self.unreadable,
        }


def summarize(votes: Sequence[dict[str, Any]], *, unreadable: int = 0, recent: int = 5) -> Summary:
    summary = Summary(unreadable=unreadable)
    for vote in votes:
        if vote["rating"] == "up":
            summary.up += 1
        elif vote["rating"] == "down":
            summary.down += 1
            summary.reasons.update(vote.get("reasons") or ["(none given)"])
    summary.recent_down = [v for v in votes if v["rating"] == "down"][-recent:]
    return summary


def summary_text(summary: Summary) -> str:
    """The summary as ``hip-assistant feedback`` prints it."""
    if not summary.total:
        lines = ["No votes yet."]
    else:
        lines = [f"Answers voted on: {summary.total} ({summary.up} up, {summary.down} down)."]
        if summary.down:
            lines.append("Why answers were voted down:")
            lines += [f"  {reason.replace('_', ' ')}: {n}" for reason, n in summary.reasons.most_common()]
            lines.append("Latest answers voted down:")
            for vote in summary.recent_down:
                why = ", ".join(r.replace("_", " ") for r in vote.get("reasons", ())) or "no reason given"
                comment = f' "{vote["comment"]}"' if vote.get("comment") else ""
                lines.append(f"  {vote['time']}  {vote['question']!r} ({why}){comment}")
    if summary.unreadable:
        lines.append(f"{summary.unreadable} line(s) could not be read and were skipped.")
    return "\n".join(lines)


def export_csv(votes: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one row per standing vote; returns the number of rows."""
    rows = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for vote in votes:
            answer = vote.get("answer", {})
            writer.writerow(
                [
                    vote.get("time", ""),
                    vote.get("answer_id", ""),
                    vote["rating"],
                    ";".join(vote.get("reasons", ())),
                    vote.get("comment", ""),
                    vote.get("question", ""),
                    answer.get("text", ""),
                    ";".join(c.get("chunk_id") or "" for c in answer.get("citations", ())),
                    ";".join(answer.get("red_flags", ())),
                    answer.get("answerer", ""),
                    vote.get("version", ""),
                ]
            )
            rows += 1
    return rows
