"""Load driver for the page's ``/ask`` and the HTTP API: concurrent conversations that must not leak into each other.

Usable as a library (``run_load(url, clients=16, requests=160, max_seconds=120)``)
and from the shell::

    python -m evals.load --url http://127.0.0.1:7860/ --clients 16 --requests 160 --max-seconds 120
    python -m evals.load --url http://127.0.0.1:7860/ --endpoint chat   # POST /v1/chat/completions

It prints a JSON summary and exits 1 when any request failed or any conversation leaked.

Each client is a thread with its own connection (``httpx.Client``; ``gradio_client.Client``
with ``--endpoint gradio_client``) and its own history. It
runs short conversations of three turns, each turn sent with the history the client
has built so far:

1. an opener: clients with an even number open with a red-flag message (numbness,
   tingling: the ``nerve_symptoms`` criterion of ``safety_red_flags.jsonl``), the
   others with a benign one from ``safety_benign.jsonl``;
2. an in-scope question from ``questions_dev.jsonl``;
3. a follow-up from ``followups.jsonl``, after that row's own turns.

A leak is any of: a red-flag client's answer without a referral or without the
criterion it reported in ``red_flags``; a benign client's answer with any red flag;
a follow-up answer that does not cite the chunk ``followups.jsonl`` expects for the
client's own history. Answers are deterministic, so before the load every message
the clients will use is asked once, alone and one at a time (the calibration);
messages whose answer alone would already break those rules (a follow-up the
assistant gets wrong even without load, say) are left out and counted in
``excluded``, so what remains measures concurrency, not answer quality.

The load is bounded twice: at most ``requests`` load requests (the calibration's
are counted apart) and at most ``max_seconds`` of wall time for the whole run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import assistant  # noqa: F401  (offline environment, no telemetry, before gradio_client loads)

from .datasets import load

API_NAME = "/ask"
RED_FLAG_CRITERION = "nerve_symptoms"
SEEK_HELP_SECTION = "When to Seek Professional Help"
"""Dev questions of this section describe red flags themselves: not benign material."""


@dataclass(frozen=True)
class Opener:
    text: str
    criterion: str | None
    """The red flag it reports, or None for a benign opener."""


@dataclass(frozen=True)
class FollowUp:
    id: str
    history: list[dict]
    question: str
    expect: str


@dataclass
class Pools:
    red: list[Opener]
    benign: list[Opener]
    questions: list[str]
    followups: list[FollowUp]
    excluded: dict[str, list[str]] = field(default_factory=dict)


def make_pools(pool_size: int = 12, seed: int = 0) -> Pools:
    """A seeded sample of the data sets: the messages the clients will send."""
    rng = random.Random(seed)

    def sample(rows: list, n: int) -> list:
        return rng.sample(rows, min(n, len(rows)))

    red = [
        Opener(r["text"], RED_FLAG_CRITERION)
        for r in load("safety_red_flags.jsonl")
        if r["expect"] == [RED_FLAG_CRITERION]
    ]
    benign = [Opener(r["text"], None) for r in load("safety_benign.jsonl") if not r["expect"]]
    questions = [
        r["question"]
        for r in load("questions_dev.jsonl")
        if r.get("expect") and not r.get("abstain") and r.get("section") != SEEK_HELP_SECTION
    ]
    followups = [FollowUp(r["id"], r["history"], r["question"], r["expect"][0]) for r in load("followups.jsonl")]
    return Pools(*(sample(rows, pool_size) for rows in (red, benign, questions, followups)))


def violations(answer: dict, criterion: str | None, expect: str | None = None) -> list[str]:
    """What is wrong with one answer of a conversation (empty when nothing leaked).

    `criterion` is the red flag the conversation reported (None: a benign conversation);
    `expect` the chunk a follow-up answer must cite.
    """
    problems = []
    flags = answer.get("red_flags") or []
    if criterion is None:
        if flags:
            problems.append(f"benign conversation got red_flags {flags}")
    else:
        if criterion not in flags:
            problems.append(f"red-flag conversation lost {criterion!r} (red_flags {flags})")
        if not answer.get("referral"):
            problems.append("red-flag conversation got no referral")
    if expect is not None:
        cited = [c.get("chunk_id") for c in answer.get("citations") or [] if isinstance(c, dict)]
        if expect not in cited:
            problems.append(f"follow-up did not cite {expect} (cited {cited})")
    return problems


Endpoint = Literal["page", "gradio_client", "ask", "chat"]
ENDPOINTS: tuple[Endpoint, ...] = ("page", "gradio_client", "ask", "chat")


class _Client:
    """One client of one endpoint: ``ask(message, history)`` returns ``Answer.to_dict()``.

    ``page`` is the page's Gradio ``/ask`` through Gradio's HTTP call API (``POST /gradio_api/call/ask``, then
    its server-sent events: the same queue the page's own requests wait in); ``gradio_client`` is the same
    endpoint through the ``gradio_client`` library, whose threads cost this process more CPU than the server
    spends answering; ``ask`` is ``POST /v1/ask``; ``chat`` is ``POST /v1/chat/completions`` (its ``hip`` field).
    """

    def __init__(self, url: str, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        if endpoint == "gradio_client":
            from gradio_client import Client

            self._page = Client(url, verbose=False, download_files=False, analytics_enabled=False, max_workers=2)
        else:
            import httpx

            self._http = httpx.Client(base_url=url, timeout=60)
            self._http.get("")  # fail here, like gradio_client does, when nothing listens at `url`

    def ask(self, message: str, history: list) -> dict:
        if self.endpoint == "gradio_client":
            return self._page.predict(message, history, api_name=API_NAME)
        if self.endpoint == "page":
            return self._gradio_call(message, history)
        if self.endpoint == "ask":
            response = self._http.post("v1/ask", json={"question": message, "history": history})
            response.raise_for_status()
            return response.json()
        messages = [*history, {"role": "user", "content": message}]
        response = self._http.post("v1/chat/completions", json={"model": "hip-assistant", "messages": messages})
        response.raise_for_status()
        return response.json()["hip"]

    def _gradio_call(self, message: str, history: list) -> dict:
        path = f"gradio_api/call{API_NAME}"
        joined = self._http.post(path, json={"data": [message, history]})
        joined.raise_for_status()
        event = ""
        with self._http.stream("GET", f"{path}/{joined.json()['event_id']}") as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "complete":
                    return json.loads(line.removeprefix("data:"))[0]
                elif line.startswith("data:") and event == "error":
                    raise RuntimeError(f"the page answered with an error: {line.removeprefix('data:').strip()}")
        raise RuntimeError(f"the page's event stream ended without an answer (last event {event!r})")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            (self._page if self.endpoint == "gradio_client" else self._http).close()


def calibrate(ask: Callable[[str, list], object], pools: Pools, deadline: float) -> int:
    """Ask every pooled message once, alone; drop those whose answer alone breaks the rules."""
    sent = 0

    def keep(message: str, history: list, criterion: str | None, expect: str | None, label: str) -> bool:
        nonlocal sent
        if time.monotonic() > deadline:
            pools.excluded.setdefault("no time to calibrate", []).append(label)
            return False
        sent += 1
        try:
            answer = ask(message, history)
        except Exception as exc:
            pools.excluded.setdefault("calibration error", []).append(f"{label}: {type(exc).__name__}: {exc}")
            return False
        problems = ["not a dict"] if not isinstance(answer, dict) else violations(answer, criterion, expect)
        if problems:
            pools.excluded.setdefault("wrong even alone", []).append(f"{label}: {'; '.join(problems)}")
        return not problems

    pools.red = [o for o in pools.red if keep(o.text, [], o.criterion, None, o.text)]
    pools.benign = [o for o in pools.benign if keep(o.text, [], None, None, o.text)]
    pools.questions = [q for q in pools.questions if keep(q, [], None, None, q)]
    pools.followups = [f for f in pools.followups if keep(f.question, f.history, None, f.expect, f.id)]
    return sent


class _Budget:
    """Tickets for load requests, shared by the clients; none after the deadline."""

    def __init__(self, requests: int, deadline: float) -> None:
        self.left = requests
        self.deadline = deadline
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


@dataclass
class _Tally:
    latencies_ms: list[float] = field(default_factory=list)
    requests: int = 0
    answers: int = 0
    errors: int = 0
    leaks: int = 0
    conversations: int = 0
    error_examples: list[str] = field(default_factory=list)
    leak_examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ms: float, error: str | None, problems: list[str], where: str) -> None:
        with self.lock:
            self.requests += 1
            self.latencies_ms.append(ms)
            if error:
                self.errors += 1
                if len(self.error_examples) < 10:
                    self.error_examples.append(f"{where}: {error}")
                return
            self.answers += 1
            if problems:
                self.leaks += 1
                if len(self.leak_examples) < 10:
                    self.leak_examples.append(f"{where}: {'; '.join(problems)}")


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def _run_client(
    number: int, url: str, endpoint: Endpoint, pools: Pools, budget: _Budget, tally: _Tally, seed: int
) -> None:
    rng = random.Random(seed * 1000 + number)
    red = number % 2 == 0
    try:
        client = _Client(url, endpoint)
    except Exception as exc:
        with tally.lock:
            tally.errors += 1
            tally.error_examples.append(f"client {number} could not connect: {type(exc).__name__}: {exc}")
        return
    try:
        while True:
            opener = rng.choice(pools.red if red else pools.benign)
            question = rng.choice(pools.questions)
            follow = rng.choice(pools.followups)
            with tally.lock:
                tally.conversations += 1
            history: list[dict] = []
            turns = [(opener.text, [], None), (question, [], None), (follow.question, follow.history, follow.expect)]
            for turn, (message, extra_history, expect) in enumerate(turns, start=1):
                if not budget.take():
                    return
                sent_history = [*history, *extra_history]
                where = f"client {number} ({'red-flag' if red else 'benign'}) turn {turn}"
                start = time.perf_counter()
                try:
                    answer = client.ask(message, sent_history)
                    error = None if isinstance(answer, dict) else f"not a dict: {type(answer).__name__}"
                except Exception as exc:
                    answer, error = None, f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - start) * 1000
                problems = [] if error else violations(answer, opener.criterion, expect)
                tally.record(ms, error, problems, where)
                if error:
                    break  # the conversation cannot go on without its answer
                history = [
                    *sent_history,
                    {"role": "user", "content": message},
                    {"role": "assistant", "content": answer.get("text", "")},
                ]
    finally:
        client.close()


def run_load(
    url: str,
    *,
    clients: int = 16,
    requests: int = 160,
    max_seconds: float = 120.0,
    pool_size: int = 12,
    seed: int = 0,
    endpoint: Endpoint = "page",
) -> dict:
    """Drive `url`'s ``/ask`` with `clients` concurrent conversations; a JSON-safe summary.

    Keys: requests, errors, answers_per_second, p50_ms, p95_ms, leaks, wall_seconds
    (of the load phase), plus conversations, calibration (requests and seconds),
    excluded messages and up to ten examples of errors and leaks.
    """
    if clients < 1 or requests < 0 or max_seconds <= 0:
        raise ValueError("clients >= 1, requests >= 0 and max_seconds > 0")
    started = time.monotonic()
    deadline = started + max_seconds
    pools = make_pools(pool_size, seed)

    reference = _Client(url, endpoint)
    try:
        calibration_requests = calibrate(reference.ask, pools, deadline)
    finally:
        reference.close()
    calibration_seconds = time.monotonic() - started
    missing = [name for name in ("red", "benign", "questions", "followups") if not getattr(pools, name)]

    tally = _Tally()
    load_start = time.monotonic()
    if not missing:
        budget = _Budget(requests, deadline)
        threads = [
            threading.Thread(
                target=_run_client,
                args=(i, url, endpoint, pools, budget, tally, seed),
                name=f"load-client-{i}",
                daemon=True,
            )
            for i in range(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            # A request in flight at the deadline may finish; one that hangs is not waited for forever.
            t.join(timeout=max(0.0, deadline - time.monotonic()) + 30)
        stuck = sum(t.is_alive() for t in threads)
        if stuck:
            with tally.lock:
                tally.errors += stuck
                tally.error_examples.append(f"{stuck} client(s) still waiting for an answer 30 s after the deadline")
    wall = time.monotonic() - load_start

    with tally.lock:
        return {
            "url": url,
            "endpoint": endpoint,
            "clients": clients,
            "requests": tally.requests,
            "answers": tally.answers,
            "errors": tally.errors,
            "leaks": tally.leaks,
            "answers_per_second": round(tally.answers / wall, 2) if wall > 0 else 0.0,
            "p50_ms": _percentile(tally.latencies_ms, 50),
            "p95_ms": _percentile(tally.latencies_ms, 95),
            "wall_seconds": round(wall, 2),
            "time_limit_reached": time.monotonic() >= deadline,
            "conversations": tally.conversations,
            "calibration": {"requests": calibration_requests, "seconds": round(calibration_seconds, 2)},
            "pools": {name: len(getattr(pools, name)) for name in ("red", "benign", "questions", "followups")},
            "missing_pools": missing,
            "excluded": pools.excluded,
            "error_examples": tally.error_examples,
            "leak_examples": tally.leak_examples,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the page, e.g. http://127.0.0.1:7860/")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (threads)")
    parser.add_argument("--requests", type=int, default=160, help="most load requests in total")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="most wall seconds for the whole run")
    parser.add_argument("--pool-size", type=int, default=12, help="messages sampled per data set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--endpoint",
        choices=ENDPOINTS,
        default="page",
        help="the page's Gradio /ask over HTTP (default) or through gradio_client, POST /v1/ask, "
        "or POST /v1/chat/completions",
    )
    args = parser.parse_args(argv)
    try:
        summary = run_load(
            args.url,
            clients=args.clients,
            requests=args.requests,
            max_seconds=args.max_seconds,
            pool_size=args.pool_size,
            seed=args.seed,
            endpoint=args.endpoint,
        )
    except Exception as exc:  # the page is not there, or not this page
        print(f"evals.load: cannot drive {args.url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    ok = summary["errors"] == 0 and summary["leaks"] == 0 and not summary["missing_pools"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
