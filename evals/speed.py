"""The report's speed section: warm latency against a bare embedding, and cold start against a bare process."""

from __future__ import annotations

import subprocess
import sys

from assistant.core import Assistant
from assistant.embeddings import load_embeddings

from . import bench
from .progress import Progress


def latency(bot: Assistant, rows: list[dict], bar: Progress, *, startup: bool) -> dict:
    """Warm ask against a bare query embedding (ONNX, and torch as a second baseline), and a fresh process's first answer."""
    bar.stage("latency")
    questions = [r["question"] for r in rows]
    measured = bench.warm_latency(bot, questions, rounds=1)
    bar.step(2 * len(questions))
    ask, embed = measured["ask_ms"], measured["embed_ms"]
    # The PyTorch backend as a second baseline (the target was first set against it), timed
    # after the loop above rather than interleaved: two runtimes' thread pools disturb each other.
    torch_embed = bench.embed_latency(load_embeddings(bot.settings.embedding_model, "torch"), questions)
    out = {
        "backend": bot.settings.embedding_backend,
        "torch_embed_ms": torch_embed,
        "ratio_p50_vs_torch": ask["p50"] / torch_embed["p50"],
        "ask_ms": ask,
        "embed_ms": embed,
        "ratio_p50": ask["p50"] / embed["p50"],
        "ratio_p95": ask["p95"] / embed["p95"],
    }
    if startup:
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
