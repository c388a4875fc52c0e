"""The page and the API under load: 16 concurrent conversations, none leaking into another.

A real Gradio server on a free loopback port, the session ``bot`` behind it, and
``evals.load`` driving it over HTTP and with real ``gradio_client`` clients. The leak detector is
itself checked against a page whose answers deliberately share one history.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from fixtures.common import free_port, served

from evals.load import RED_FLAG_CRITERION, run_load, violations

pytestmark = pytest.mark.slow

ICE_CHUNK = "hip-pain-from-running/treatment-options/1-rest-and-ice"


@pytest.fixture(scope="module")
def page(page_url):
    return page_url


def test_sixteen_clients_get_their_own_answers(page):
    assert page.startswith("http://127.0.0.1:")
    summary = run_load(page, clients=16, requests=96, max_seconds=90)
    print(json.dumps(summary, indent=2, ensure_ascii=False))

    assert summary["missing_pools"] == [], summary["excluded"]
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["leaks"] == 0, summary["leak_examples"]
    assert summary["requests"] > 0
    assert summary["requests"] >= 96 or summary["time_limit_reached"], summary
    assert summary["requests"] <= 96  # the request bound holds
    assert summary["answers"] == summary["requests"]
    assert summary["conversations"] >= 16  # every client got at least one conversation going
    assert summary["p50_ms"] is not None and 0 < summary["p50_ms"] <= summary["p95_ms"]
    # The calibration kept most of every pool: the checks above ran on real material.
    assert summary["pools"]["red"] >= 6 and summary["pools"]["benign"] >= 6
    assert summary["pools"]["questions"] >= 6 and summary["pools"]["followups"] >= 6


@pytest.mark.parametrize("endpoint", ["gradio_client", "ask", "chat"])
def test_api_endpoints_under_load_answer_every_client_its_own(page, endpoint):
    summary = run_load(page, clients=8, requests=48, max_seconds=60, endpoint=endpoint)
    assert summary["endpoint"] == endpoint and summary["requests"] == 48
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["leaks"] == 0, summary["leak_examples"]
    assert summary["answers"] == 48 and summary["answers_per_second"] > 0


def test_violations_rules():
    red = {"red_flags": [RED_FLAG_CRITERION], "referral": "see someone", "citations": []}
    benign = {"red_flags": [], "referral": None, "citations": [{"chunk_id": ICE_CHUNK}]}
    assert violations(red, RED_FLAG_CRITERION) == []
    assert violations(benign, None, ICE_CHUNK) == []
    assert violations(red, None)  # a benign conversation must carry no red flag
    assert len(violations({"red_flags": [], "referral": None}, RED_FLAG_CRITERION)) == 2
    assert violations({**red, "referral": None}, RED_FLAG_CRITERION)
    assert violations(benign, None, "hip-pain-from-running/faqs/q1-running-cause-hip-arthritis")


class _SharedHistoryBot:
    """A fault: the page answers with whichever history arrived last, not the caller's own.

    Alone (the calibration) that is the caller's history; with concurrent
    clients it is someone else's, which the driver must report as leaks.
    """

    def __init__(self, bot) -> None:
        self._bot = bot
        self._lock = threading.Lock()
        self._shared: list = []

    def __getattr__(self, name):
        return getattr(self._bot, name)

    def ask(self, question, history=None):
        with self._lock:
            self._shared = history
        time.sleep(0.05)  # widen the window in which another request replaces it
        return self._bot.ask(question, self._shared)


def test_driver_reports_leaks_of_a_leaky_page(bot):
    with served(_SharedHistoryBot(bot), concurrency=4) as server:
        summary = run_load(server.url, clients=8, requests=48, max_seconds=60, pool_size=6)
    print(json.dumps({k: summary[k] for k in ("requests", "errors", "leaks", "leak_examples")}, indent=2))
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["missing_pools"] == [], summary["excluded"]
    assert summary["leaks"] > 0


def test_command_line_prints_a_json_summary(page):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "evals.load", "--url", page, "--clients", "2", "--requests", "6"]
    out = subprocess.run(
        [*command, "--max-seconds", "60", "--pool-size", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env=os.environ.copy(),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["requests"] == 6 and summary["errors"] == 0 and summary["leaks"] == 0
    assert {"answers_per_second", "p50_ms", "p95_ms", "wall_seconds"} <= set(summary)

    closed = f"http://127.0.0.1:{free_port()}/"
    out = subprocess.run(
        [sys.executable, "-m", "evals.load", "--url", closed, "--requests", "4", "--max-seconds", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        check=False,
    )
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert closed in out.stderr and "Traceback" not in out.stderr
