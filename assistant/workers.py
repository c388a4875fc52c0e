"""Answers computed in worker processes, so that a server uses more than one core.

One Python process computes one answer at a time (the GIL holds the ranking, the scope judge and the safety
layer), so ``hip-assistant serve --workers N`` hands each question and its conversation to one of N processes,
each with its own ``Assistant`` over the same index (the same directory, or the same Chroma server). They are
started with ``spawn``: the ONNX runtime's threads do not survive a fork.

An answer comes back as its pieces, whole: an extractive answer takes milliseconds, and the pieces are passed on
one by one, so the page and the SSE stream still show a list item by item. If the pool breaks (a worker killed),
the question is answered in the server's own process and the pool is started again: no question is lost.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .answer import Answer
    from .core import Assistant
    from .settings import Settings

log = logging.getLogger(__name__)

_BOT: Assistant | None = None
"""The worker process's own assistant (set by ``_start``)."""


def _start(settings: Settings) -> None:
    global _BOT
    from .core import Assistant

    _BOT = Assistant(settings)


def _ready() -> int:
    time.sleep(0.2)  # held a moment, so that each of the start's tasks finds a worker of its own
    return os.getpid()


def _pieces(question: str, history: Sequence[dict[str, Any]] | None, debug: bool | None) -> tuple[int, list[Answer]]:
    """The answer's pieces, computed in this worker, and which worker computed them."""
    assert _BOT is not None, "worker started without an assistant"
    return os.getpid(), list(_BOT.stream(question, history, debug=debug))


class Workers:
    """A pool of `count` processes that answer questions, each with an assistant built from `settings`."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.answers: Counter[int] = Counter()
        """Answers computed, by worker process id (``/v1/health`` shows them)."""
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings,),
        )

    def start(self) -> list[int]:
        """Start every worker now (each loads its model and opens the index), not at the first question."""
        pids = {future.result() for future in [self._pool.submit(_ready) for _ in range(self.count * 2)]}
        return sorted(pids)

    async def pieces(
        self, question: str, history: Sequence[dict[str, Any]] | None, debug: bool | None
    ) -> list[Answer] | None:
        """The answer's pieces from a worker, or None when the pool broke (it is started again)."""
        pool = self._pool
        try:
            pid, pieces = await asyncio.wrap_future(pool.submit(_pieces, question, history, debug))
        except BrokenProcessPool:
            log.warning("a worker process died; answering in the server's process and starting the pool again")
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            return None
        self.answers[pid] += 1
        return pieces

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def use_workers(bot: Assistant, count: int) -> Workers | None:
    """Give `bot` a pool of `count` answering processes (none for 1) and start them."""
    if count <= 1:
        return None
    workers = Workers(bot.settings.model_copy(update={"workers": 1}), count)
    pids = workers.start()
    log.info("answering in %d worker processes: %s", len(pids), pids)
    bot.workers = workers
    return workers
