"""Votes on answers: the JSON Lines store, its summary and spreadsheet, ``hip-assistant feedback``.

The answers voted on are real ones from the session ``bot``. Concurrent
writers are real processes appending long lines to the same file.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
from datetime import UTC, datetime

import pytest
from fixtures.common import run_cli
from fixtures.feedback_writer import write_votes

from assistant.feedback import (
    MAX_COMMENT_CHARS,
    REASONS,
    FeedbackError,
    FeedbackStore,
    Vote,
    export_csv,
    summarize,
    summary_text,
)

ICE = "How long should I ice my hip?"
RED_FLAG = "My leg keeps going numb and I can't put weight on it"


@pytest.fixture(scope="module")
def answers(bot) -> dict[str, dict]:
    return {q: bot.ask(q).to_dict() for q in (ICE, RED_FLAG)}


def test_a_vote_is_one_line_with_the_answer_and_nothing_about_the_person(tmp_path, answers, settings):
    store = FeedbackStore(tmp_path)
    when = datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC)
    line = store.add(
        Vote("a1", "down", RED_FLAG, answers[RED_FLAG], ("missed_warning",), " too late "), settings, now=when
    )
    [path] = tmp_path.iterdir()
    assert path.name == "feedback-2026-11-28.jsonl"
    [written] = [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines()]
    assert written == line
    assert set(written) == {
        "id", "time", "answer_id", "rating", "reasons", "comment", "comment_truncated",
        "question", "answer", "settings", "version",
    }  # fmt: skip
    assert written["comment"] == "too late" and written["reasons"] == ["missed_warning"]
    answer = written["answer"]
    assert answer["text"] == answers[RED_FLAG]["text"] and answer["referral"] == "flagged"
    assert set(answer["red_flags"]) >= {"severe_pain", "nerve_symptoms"}
    assert [c["chunk_id"] for c in answer["citations"]] == [c["chunk_id"] for c in answers[RED_FLAG]["citations"]]
    assert written["settings"]["answerer"] == "extractive" and written["settings"]["retrieval"] == "hybrid"
    assert written["time"] == "2026-11-28T23:59:59+00:00"


def test_a_later_vote_replaces_an_earlier_one_and_withdrawn_votes_drop_out(tmp_path, answers, settings):
    store = FeedbackStore(tmp_path)
    store.add(Vote("a1", "down", ICE, answers[ICE]), settings)
    store.add(Vote("a1", "down", ICE, answers[ICE], ("wrong_source",), "wrong chunk"), settings)
    store.add(Vote("a2", "up", RED_FLAG, answers[RED_FLAG]), settings)
    store.add(Vote("a3", "down", RED_FLAG, answers[RED_FLAG]), settings)
    store.add(Vote("a3", "withdrawn", RED_FLAG, answers[RED_FLAG]), settings)
    votes = {v["answer_id"]: v for v in store.votes()}
    assert set(votes) == {"a1", "a2"}
    assert votes["a1"]["reasons"] == ["wrong_source"] and votes["a1"]["comment"] == "wrong chunk"
    summary = summarize(store.votes())
    assert (summary.total, summary.up, summary.down) == (2, 1, 1)
    assert dict(summary.reasons) == {"wrong_source": 1}
    text = summary_text(summary)
    assert "Answers voted on: 2 (1 up, 1 down)." in text and "wrong source: 1" in text and "wrong chunk" in text


def test_unreadable_lines_are_counted_not_fatal(tmp_path, answers, settings):
    store = FeedbackStore(tmp_path)
    store.add(Vote("a1", "up", ICE, answers[ICE]), settings)
    with next(tmp_path.iterdir()).open("a", encoding="utf-8") as handle:
        handle.write('{"half a line\n["not", "a vote"]\n')
    lines, bad = store.lines()
    assert len(lines) == 1 and bad == 2
    assert "2 line(s) could not be read" in summary_text(summarize(store.votes(), unreadable=bad))


def test_unknown_ratings_and_reasons_are_refused_with_the_allowed_values(answers):
    with pytest.raises(FeedbackError, match="up, down, withdrawn"):
        Vote("a1", "meh", ICE, answers[ICE])  # type: ignore[arg-type]
    with pytest.raises(FeedbackError) as err:
        Vote("a1", "down", ICE, answers[ICE], ("too_long",))  # type: ignore[arg-type]
    assert all(reason in str(err.value) for reason in REASONS)


def test_a_long_comment_is_kept_up_to_the_limit_and_marked(tmp_path, answers, settings):
    line = FeedbackStore(tmp_path).add(Vote("a1", "down", ICE, answers[ICE], comment="x" * 5000), settings)
    assert len(line["comment"]) == MAX_COMMENT_CHARS and line["comment_truncated"] is True


def test_concurrent_writers_lose_and_interleave_nothing(tmp_path, answers):
    writers, count = 4, 60
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=write_votes, args=(str(tmp_path), w, count, ICE, answers[ICE])) for w in range(writers)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    [path] = tmp_path.iterdir()
    raw = path.read_text(encoding="utf-8").splitlines()
    assert len(raw) == writers * count
    lines = [json.loads(line) for line in raw]  # every line whole
    assert min(len(line) for line in raw) > 4096
    for w in range(writers):  # each writer's votes all there, in its own order
        mine = [line["answer_id"] for line in lines if line["answer_id"].startswith(f"w{w}-")]
        assert mine == [f"w{w}-{n}" for n in range(count)]
    assert len({line["id"] for line in lines}) == writers * count


def test_export_csv_round_trips_awkward_text(tmp_path, answers, settings):
    store = FeedbackStore(tmp_path / "votes")
    comment = 'commas, "quotes",\nand a new line'
    store.add(Vote("a1", "down", RED_FLAG, answers[RED_FLAG], ("missed_warning", "other"), comment), settings)
    store.add(Vote("a2", "up", ICE, answers[ICE]), settings)
    out = tmp_path / "votes.csv"
    assert export_csv(store.votes(), out) == 2
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["answer_id"] for r in rows] == ["a1", "a2"]
    assert rows[0]["comment"] == comment and rows[0]["reasons"] == "missed_warning;other"
    assert rows[0]["answer"] == answers[RED_FLAG]["text"]
    assert rows[1]["citations"] == ";".join(c["chunk_id"] for c in answers[ICE]["citations"])


@pytest.mark.slow
def test_cli_prints_the_summary_and_exports(tmp_path, answers, settings, index_dir):
    folder = tmp_path / "votes"
    store = FeedbackStore(folder)
    store.add(Vote("a1", "down", RED_FLAG, answers[RED_FLAG], ("missed_warning",)), settings)
    store.add(Vote("a2", "up", ICE, answers[ICE]), settings)

    out = run_cli("feedback", index_dir=index_dir, HIP_FEEDBACK_DIR=str(folder))
    assert out.returncode == 0, out.stderr
    assert "Answers voted on: 2 (1 up, 1 down)." in out.stdout and "missed warning: 1" in out.stdout
    assert RED_FLAG in out.stdout

    out = run_cli("feedback", "--dir", str(folder), "--json", index_dir=index_dir)
    assert json.loads(out.stdout) == {
        "votes": 2,
        "up": 1,
        "down": 1,
        "down_reasons": {"missed_warning": 1},
        "unreadable_lines": 0,
    }

    sheet = tmp_path / "out.csv"
    out = run_cli("feedback", "--dir", str(folder), "--export", "csv", "--out", str(sheet), index_dir=index_dir)
    assert out.returncode == 0 and "Wrote 2 vote(s)" in out.stderr
    assert len(sheet.read_text(encoding="utf-8").splitlines()) == 3

    empty = run_cli("feedback", "--dir", str(tmp_path / "none"), index_dir=index_dir)
    assert empty.returncode == 0 and "No votes yet." in empty.stdout
