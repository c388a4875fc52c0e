"""One question on its way through the chain: what is known about it before it is answered.

``Turn`` is what every answerer reads (``answer.Answerer``); ``Clock`` times its steps.
It sits below the chain and the answerers so both can name it without importing each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .compose import Plan
from .history import Message
from .retrieval import Hit
from .scope import Scope


class Clock:
    """Milliseconds per step of one answer: each ``lap`` adds the time since the last one to a step."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._last = time.perf_counter()

    def restart(self) -> None:
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.ms[step] = round(self.ms.get(step, 0.0) + (now - self._last) * 1000, 3)
        self._last = now


@dataclass
class Turn:
    """Everything known about one question before it is answered."""

    question: str
    history: list[Message]
    query: str
    """What retrieval used: the question, or the question condensed with earlier turns."""
    vector: np.ndarray
    hits: list[Hit]
    scope: Scope
    truncated: bool = False
    reported: tuple[str, ...] = ()
    """Chunk ids of the red-flag criteria the question itself reports; they lead `hits`."""
    plan: Plan = field(default_factory=lambda: Plan("specific"))
    """The answer's shape and the chunks it draws from (``compose``)."""
    message: str = ""
    """The whole message, as the safety layer reads it (``question`` may be cut for retrieval)."""
    earlier: tuple[str, ...] = ()
    """Every earlier user message, as the safety layer reads them (``history`` keeps the recent ones)."""
    problem: str = ""
    """Why retrieval failed, when it did (shown as the answer's notice)."""
    degraded: bool = False
    """The index could not be reached: the hits were ranked from memory (said in the answer's notice)."""
    debug: bool = False
    """Add the per-step timings to the answer."""
    clock: Clock = field(default_factory=Clock)
