"""The console script, run as a real subprocess against the session index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.common import run_cli

from assistant.embeddings import load_embeddings
from assistant.settings import load_settings
from assistant.store import Index


def flat(text: str) -> str:
    """Terminal output with line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def built_index(index_dir, bot) -> Path:
    """The session index, built (by the `bot` fixture) before any subprocess opens it."""
    return index_dir


@pytest.mark.slow
def test_ask_prints_answer_and_sources(built_index):
    out = run_cli("ask", "How long should I ice my hip?", index_dir=built_index)
    assert out.returncode == 0, out.stderr
    text = flat(out.stdout)
    assert "15-20 minutes" in text
    assert "Sources:" in out.stdout
    assert "[1] Treatment Options for Hip Pain from Running \u203a Rest and Ice" in out.stdout
    assert "(hip-pain-from-running/treatment-options/1-rest-and-ice)" in out.stdout
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_ask_json_matches_to_dict(built_index, bot):
    question = "Which foods help with inflammation?"
    out = run_cli("ask", "--json", question, index_dir=built_index)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    expected = bot.ask(question).to_dict()
    assert set(data) == set(expected)
    assert data == expected
    assert data["citations"] and data["answerer"] == "extractive"


@pytest.mark.slow
def test_ask_off_topic(built_index):
    out = run_cli("ask", "How do I change a car tyre?", index_dir=built_index)
    assert out.returncode == 0, out.stderr
    assert "doesn't cover" in out.stdout
    assert "Treatment Options for Hip Pain from Running" in out.stdout  # names what it does cover
    assert "Sources:" not in out.stdout


@pytest.mark.slow
def test_index_reports_up_to_date(built_index, bot):
    out = run_cli("index", index_dir=built_index)
    assert out.returncode == 0, out.stderr
    assert "up to date" in out.stdout
    assert f"{bot.manifest.chunks} chunks" in out.stdout
    assert f"{bot.manifest.sentences} sentences" in out.stdout
    assert "Building" not in out.stderr


@pytest.mark.slow
def test_index_rebuild_shows_progress_and_builds(tmp_path, bot):
    fresh = tmp_path / "fresh-index"
    out = run_cli("index", "--rebuild", index_dir=fresh)
    assert out.returncode == 0, out.stderr
    assert "Building the index" in out.stderr
    assert "Embedding chunks" in out.stderr and "Embedding sentences" in out.stderr
    n, s = bot.manifest.chunks, bot.manifest.sentences
    assert f"{n}/{n}" in out.stderr and f"{s}/{s}" in out.stderr  # the bars ran to the end
    assert "built" in out.stdout and f"{n} chunks" in out.stdout
    index = Index(load_settings(index_dir=fresh), load_embeddings())
    assert index.stale_reasons() == []
    assert index.manifest() == bot.manifest


@pytest.mark.slow
def test_chat_answers_two_questions_then_exits_on_eof(built_index):
    out = run_cli(
        "chat",
        index_dir=built_index,
        stdin="How long should I ice my hip?\nWhich foods fight inflammation?\n",
    )
    assert out.returncode == 0, out.stderr
    text = flat(out.stdout)
    assert "15-20 minutes" in text
    assert "omega-3" in text
    assert out.stdout.count("Sources:") == 2
    assert out.stdout.count("you> ") == 3  # two questions, then the prompt that met EOF
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args", [("ask", "How long should I ice my hip?"), ("index",)])
def test_bad_setting_exits_2_with_one_line(args, tmp_path):
    out = run_cli(*args, index_dir=tmp_path / "never-built", HIP_RETRIEVAL="foo")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("hip-assistant:")
    assert "HIP_RETRIEVAL" in lines[0] and "hybrid" in lines[0] and "bm25" in lines[0]
    assert out.stdout == ""
    assert not (tmp_path / "never-built").exists()
