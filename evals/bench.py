"""Benchmarks: ``python -m evals.bench`` (or ``hip-assistant eval --bench``).

Every time is reported next to a baseline measured in the same run, because
the machines are noisy: warm ``ask()`` against a bare query embedding, index
build against bare embedding of the same texts, a fresh process's first
answer against bare processes, ``ask()`` on a synthetic corpus of 10,000
chunks against the same bare embedding (100,000 in a run of its own, ``--synthetic-only``;
its index build against bare batch embedding of a sample of the same texts), BM25 scoring on that corpus by
rank_bm25, bm25s and the assistant's own inverted index, and answers per
second through HTTP (page, /v1/ask, /v1/chat/completions) next to the core's.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import assistant  # noqa: F401  (offline environment first)
from assistant.core import Assistant
from assistant.corpus import load_corpus
from assistant.embeddings import embed_query, embed_texts, embeddings_for
from assistant.settings import load_settings
from assistant.store.builder import rows_of

from . import metrics

QUESTIONS = (
    "How long should I ice my hip?",
    "What stretches help hip pain from running?",
    "Can I keep running with hip pain?",
    "What should I eat to recover?",
    "Do worn out shoes cause hip pain?",
    "When should I see a doctor?",
    "Is foam rolling useful?",
    "How fast can I increase my mileage?",
)


def embedded_texts(corpus_dir: Path) -> list[str]:
    """The texts an index build embeds (chunks under their section, sentences under their item title): the
    build's baseline embeds these, not the shorter stored texts."""
    chunk_rows, sentence_rows = rows_of(load_corpus(corpus_dir))
    return chunk_rows.embed + sentence_rows.embed


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


LARGE_RUN = "bench_100k.json"
LARGE_RUN_COMMAND = f"python -m evals.bench --chunks 100000 --synthetic-only --out evals/results/{LARGE_RUN}"
"""The 100,000-chunk run, kept in ``evals/results/`` and added to the report by ``hip-assistant eval --bench``."""

BUILD_SAMPLE = 3000
"""Texts of the synthetic corpus embedded bare, for the build throughput's baseline."""

WARM_UP = 8
"""Questions asked and embedded before timing starts."""


def warm_latency(bot: Assistant, questions: Sequence[str] = QUESTIONS, rounds: int = 5) -> dict:
    """ask() and bare embed_query() on the same questions, interleaved, after a warm-up."""
    for q in questions[:WARM_UP]:
        bot.ask(q)
        embed_query(bot.embeddings, q)
    ask_ms, embed_ms = [], []
    for _ in range(rounds):
        for q in questions:
            embed_ms.append(_timed(embed_query, bot.embeddings, q))
            bot.safety.clear_cache()  # a new message each time, as in real use
            ask_ms.append(_timed(bot.ask, q))
    ask, embed = metrics.percentiles(ask_ms), metrics.percentiles(embed_ms)
    return {"ask_ms": ask, "embed_ms": embed, "ratio_p50": ask["p50"] / embed["p50"]}


def embed_latency(embeddings, questions: Sequence[str]) -> dict:
    """Bare embed_query() percentiles (ms) for another embeddings object, after a warm-up."""
    for q in questions[:WARM_UP]:
        embed_query(embeddings, q)
    return metrics.percentiles([_timed(embed_query, embeddings, q) for q in questions])


def synthetic_corpus(folder: Path, article: Path, chunks: int, per_file: int = 500) -> int:
    """Files of numbered items made by recombining the article's sentences, `chunks` items in all."""
    from assistant import nlp

    text = article.read_text(encoding="utf-8")
    sentences = [text[a:b] for c in load_corpus(article.parent)[0].chunks for a, b in c.sentences]
    rng = random.Random(7)
    written = 0
    for n in range(0, chunks, per_file):
        lines = [f"Synthetic guide {n // per_file + 1}", "", f"Section {n // per_file + 1}", ""]
        for i in range(min(per_file, chunks - n)):
            body = " ".join(rng.sample(sentences, 2))
            title = " ".join(nlp.content_words(body)[:3]).title() or "Item"
            lines += [f"  {i + 1}. {title} {n + i}: {body}", ""]
            written += 1
        (folder / f"synthetic-{n // per_file + 1:03d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return written


BARE_START = """
import sys
import chromadb, numpy as np, onnxruntime as ort
if sys.argv[3] == "runnable":
    from langchain_core.runnables import Runnable
else:
    import langchain_core.documents
from tokenizers import Tokenizer
tokenizer = Tokenizer.from_file(sys.argv[2] + "/tokenizer.json")
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
e = tokenizer.encode("How long should I ice my hip?")
ids = np.array([e.ids], dtype=np.int64)
session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})
"""
"""A bare process: the libraries the assistant stands on (chromadb; langchain-core's Runnable, which every
LangChain chain imports with its tracers), the ONNX model and its tokenizer, one query embedded."""

FIRST_ANSWER = """
import sys
from assistant import Assistant
Assistant(index_dir=sys.argv[1]).ask("How long should I ice my hip?")
"""
"""A fresh process's first answer, as ``hip-assistant ask`` gives it (index already built)."""


def _process_seconds(script: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, *args], check=True, capture_output=True)
    return time.perf_counter() - started


def cold_start(settings, index_dir: Path, rounds: int = 5) -> dict:
    """Wall time of a fresh process's first answer against two bare processes, interleaved, medians.

    Both bare processes import chromadb, onnxruntime and tokenizers, load the
    ONNX model and ``tokenizer.json`` and embed one query; one also imports
    langchain-core's ``Runnable`` (with the tracers it brings), which any
    LangChain chain needs, the other only ``langchain_core.documents``.
    """
    from assistant.embeddings import model_path, onnx_graph_path

    graph = str(onnx_graph_path(settings.embedding_model, settings.models_dir))
    folder = str(model_path(settings.embedding_model))
    _process_seconds(FIRST_ANSWER, str(index_dir))  # disk caches warm, example caches written
    times: dict[str, list[float]] = {"first": [], "runnable": [], "documents": []}
    for _ in range(rounds):
        times["runnable"].append(_process_seconds(BARE_START, graph, folder, "runnable"))
        times["documents"].append(_process_seconds(BARE_START, graph, folder, "documents"))
        times["first"].append(_process_seconds(FIRST_ANSWER, str(index_dir)))
    first, runnable, documents = (statistics.median(times[k]) for k in ("first", "runnable", "documents"))
    return {
        "first answer of a fresh process (s)": round(first, 2),
        "bare process with langchain-core's Runnable (s)": round(runnable, 2),
        "ratio": round(first / runnable, 2),
        "bare process without it (s)": round(documents, 2),
        "ratio without it": round(first / documents, 2),
    }


def bm25_comparison(bot: Assistant, questions: Sequence[str] = QUESTIONS, rounds: int = 5) -> dict:
    """Scoring every chunk for a question: rank_bm25, bm25s and the assistant's own index, median ms."""
    import bm25s
    from rank_bm25 import BM25Okapi

    from assistant import nlp
    from assistant.retrieval import Bm25, bm25_tokens

    tokens = bm25_tokens(bot.ranker.documents)
    queries = [nlp.stems(nlp.expand(q)) for q in questions]
    reference, ours = BM25Okapi(tokens), Bm25(tokens)
    sparse = bm25s.BM25(method="robertson", k1=Bm25.K1, b=Bm25.B)
    sparse.index(tokens, show_progress=False)

    def median_ms(score) -> float:
        return statistics.median(_timed(score, q) for _ in range(rounds) for q in queries)

    return {
        "chunks": len(tokens),
        "rank_bm25 BM25Okapi (ms)": round(median_ms(reference.get_scores), 3),
        "bm25s, Robertson (ms)": round(
            median_ms(lambda q: sparse.get_scores([t for t in q if t in ours.vocabulary])), 3
        ),
        "assistant.retrieval.Bm25 (ms)": round(median_ms(ours.scores), 3),
        "assistant's scores equal rank_bm25's": all(
            np.allclose(ours.scores(q), reference.get_scores(q), rtol=1e-12, atol=1e-12) for q in queries
        ),
    }


def core_throughput(bot: Assistant, questions: Sequence[str] = QUESTIONS, seconds: float = 5.0) -> float:
    """Answers per second of ``ask()`` itself, one after another on one thread (no HTTP, no queue)."""
    answered, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        bot.safety.clear_cache()
        bot.ask(questions[answered % len(questions)])
        answered += 1
    return answered / (time.perf_counter() - started)


def http_throughput(
    settings, index_dir: Path, clients: int = 16, requests: int = 160, workers: int = 1, core: bool = True
) -> dict:
    """The page, ``/v1/ask`` and ``/v1/chat/completions`` under `clients` concurrent conversations
    (``evals.load``), next to the core's own answers per second measured in the same run (with `core`).

    The server is ``hip-assistant serve`` in a process of its own, as it runs in use: clients in the same
    process would share its interpreter lock and measure themselves. With `workers` > 1 it computes the
    answers in that many processes (``--workers``).
    """
    import os
    import socket

    import httpx

    from .load import ENDPOINTS, run_load

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HIP_INDEX_DIR": str(index_dir),
        "HIP_MODELS_DIR": str(settings.models_dir),
        "HIP_API_RATE_LIMIT": "0",  # every client comes from one address
    }
    command = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)] if workers > 1 else []
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    out: dict = {"clients": clients, "requests per endpoint": requests}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hip-assistant serve did not come up for the throughput benchmark")
            time.sleep(0.2)
        for endpoint in ENDPOINTS:
            summary = run_load(url, clients=clients, requests=requests, max_seconds=180, endpoint=endpoint)
            out[endpoint] = {
                k: summary[k] for k in ("answers_per_second", "p50_ms", "p95_ms", "errors", "leaks", "requests")
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    if core:
        out["core ask() alone, one thread (answers/s)"] = round(
            core_throughput(Assistant(settings, index_dir=index_dir)), 1
        )
    return out


def run(chunks: int = 10_000, *, article: bool = True) -> dict:
    """The benchmarks; `article`: also those on the article (build, warm ask, cold start, HTTP), not only the
    synthetic corpus (``--synthetic-only``, for the 100,000-chunk run)."""
    settings = load_settings()
    embeddings = embeddings_for(settings)
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if article:
            # 1. Index build for the article, beside bare embedding of the same texts.
            bot = Assistant(settings, index_dir=tmp_path / "article-index")
            texts = embedded_texts(settings.corpus_dir)
            bare = _timed(embed_texts, embeddings, texts) / 1000
            started = time.perf_counter()
            bot.index.ensure(rebuild=True)
            build = time.perf_counter() - started
            out["index build (article)"] = {
                "chunks": len(bot.documents),
                "seconds": round(build, 2),
                "bare embedding of the same texts (s)": round(bare, 2),
                "ratio": round(build / bare, 2),
            }
            out["warm ask (article)"] = warm_latency(bot)
            out["cold start"] = cold_start(settings, tmp_path / "article-index")
            out["HTTP throughput (article)"] = http_throughput(settings, tmp_path / "article-index")
            out["HTTP throughput (article, --workers 2)"] = http_throughput(
                settings, tmp_path / "article-index", workers=2, core=False
            )

        # 2. A synthetic corpus of `chunks` chunks.
        corpus = tmp_path / "synthetic"
        corpus.mkdir()
        article = settings.corpus_dir / "hip-pain-from-running.txt"
        made = synthetic_corpus(corpus, article, chunks)
        (corpus / article.name).write_text(
            article.read_text(encoding="utf-8"), encoding="utf-8"
        )  # its referral criteria
        started = time.perf_counter()
        big = Assistant(settings, corpus_dir=corpus, index_dir=tmp_path / "synthetic-index", collection="synthetic")
        build = time.perf_counter() - started
        # Build throughput (every chunk and sentence is embedded) beside bare batch embedding of a sample of the
        # same texts: the whole set again would double the run at 100,000 chunks.
        texts = embedded_texts(corpus)
        sample = random.Random(0).sample(texts, min(len(texts), BUILD_SAMPLE))
        bare_rate = len(sample) / (_timed(embed_texts, big.embeddings, sample) / 1000)
        build_rate = len(texts) / build
        out[f"synthetic corpus ({made} chunks)"] = {
            "index build and load (s)": round(build, 1),
            "sentences": len(big.sentences.texts),
            "build throughput (texts/s)": round(build_rate, 1),
            f"bare embedding of {len(sample)} of the same texts (texts/s)": round(bare_rate, 1),
            "build throughput ratio (bare / build)": round(bare_rate / build_rate, 3),
            **warm_latency(big),
        }
        out[f"BM25 scoring ({made} chunks)"] = bm25_comparison(big)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="size of the synthetic corpus")
    parser.add_argument("--out", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--synthetic-only", action="store_true", help="only the synthetic corpus (build, warm ask, BM25)"
    )
    args = parser.parse_args(argv)
    results = run(args.chunks, article=not args.synthetic_only)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
