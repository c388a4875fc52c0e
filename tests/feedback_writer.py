"""A process that appends votes to a feedback folder (the concurrent-writers test spawns several).

Kept apart from the test module so a spawned writer imports only the feedback store, not the test suite.
"""

from __future__ import annotations

from assistant.feedback import FeedbackStore, Vote
from assistant.settings import load_settings


def write_votes(folder: str, writer: int, count: int, question: str, answer: dict) -> None:
    settings = load_settings()
    store = FeedbackStore(folder)
    for n in range(count):
        comment = f"writer {writer} vote {n} " + "long comment " * 300  # lines of ~4-6 KB, beyond one pipe buffer
        store.add(Vote(f"w{writer}-{n}", "down", question, answer, ("other",), comment), settings)
