"""``hip-assistant serve --workers N``: answers computed in N processes sharing the index, on a real server.

The server is the console script in a child process on a free loopback port; the workers are real processes, each
with its own model and the same index. Killing one is the fault: the question it held is answered all the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures.common import ROOT, child_env, free_port

from assistant.api.schema import content_of
from assistant.workers import use_workers

QUESTIONS = [
    "How do I relieve hip pain from running?",
    "what should I eat to help my hip heal?",
    "my leg tingles when I run",
    "How long should I rest?",
    "Summarize the article",
    "is foam rolling worth it?",
]


@contextlib.contextmanager
def serving(index_dir: Path, log: Path, *args: str):
    """``hip-assistant serve`` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    script = shutil.which("hip-assistant", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "assistant.cli"]
    with open(log, "w", encoding="utf-8") as out:
        child = subprocess.Popen(
            [*command, "serve", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(index_dir),
            cwd=ROOT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert child.poll() is None, log.read_text(encoding="utf-8")
            with contextlib.suppress(OSError):
                health(base)
                break
            assert time.monotonic() < deadline, "the server did not answer in 120 s"
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def health(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/v1/health", timeout=5) as response:
        return json.loads(response.read())


def chat(base: str, question: str) -> str:
    body = json.dumps({"model": "hip-assistant", "messages": [{"role": "user", "content": question}]}).encode()
    request = urllib.request.Request(f"{base}/v1/chat/completions", body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())["choices"][0]["message"]["content"]


@pytest.fixture(scope="module")
def workers_server(index_dir, tmp_path_factory):
    with serving(index_dir, tmp_path_factory.mktemp("workers") / "serve.log", "--workers", "2") as base:
        yield base


def test_answers_are_shared_among_the_workers_without_cross_talk(workers_server, bot):
    expected = {q: content_of(bot.ask(q)) for q in QUESTIONS}
    asked = QUESTIONS * 6
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda q: chat(workers_server, q), asked))
    assert got == [expected[q] for q in asked]  # each client gets its own question's answer
    workers = health(workers_server)["workers"]
    assert workers["count"] == 2
    assert len(workers["answers"]) == 2 and all(n > 0 for n in workers["answers"].values()), workers
    assert sum(workers["answers"].values()) >= len(asked)


def test_a_killed_worker_loses_no_question(workers_server, bot):
    pids = [int(pid) for pid in health(workers_server)["workers"]["answers"]]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    question = "How can I prevent hip pain?"
    assert chat(workers_server, question) == content_of(bot.ask(question))
    # The pool is started again: later answers come from new worker processes.
    deadline = time.monotonic() + 60
    while not set(map(int, health(workers_server)["workers"]["answers"])) - set(pids):
        assert time.monotonic() < deadline, "no new worker answered within 60 s"
        assert chat(workers_server, question) == content_of(bot.ask(question))


def test_one_worker_means_answers_in_the_servers_own_process(bot):
    assert use_workers(bot, 1) is None and bot.workers is None


def test_serve_has_a_workers_flag():
    from assistant.cli import build_parser

    assert build_parser().parse_args(["serve", "--workers", "3"]).workers == 3
