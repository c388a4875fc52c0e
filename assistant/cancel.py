"""A caller's "stop" that reaches work running on other threads.

An async caller that stops reading an answer (a cancelled HTTP request, Stop on
the page) cannot interrupt the worker thread computing the next piece. The
chain's async path sets this flag instead, and long work (a language model
writing) checks it between tokens and ends early.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

_FLAG: ContextVar[threading.Event | None] = ContextVar("hip_cancel", default=None)


def new_flag() -> threading.Event:
    """A fresh flag, made the current one for this context (and the contexts copied from it)."""
    flag = threading.Event()
    _FLAG.set(flag)
    return flag


def current_flag() -> threading.Event | None:
    """The flag of the answer being computed, if its caller can cancel it."""
    return _FLAG.get()
