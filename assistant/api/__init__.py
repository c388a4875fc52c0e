"""The HTTP API (a package: ``schema`` the shapes, ``guard`` the gate, ``metrics``, ``app`` the routes): OpenAI-compatible chat completions, plain JSON ``/v1/ask``, health and Prometheus metrics.

A thin front door like the others: every handler calls the same ``Assistant``
(``aask``/``astream``, which compute on worker threads). The page is mounted
on this app at ``/`` by ``web.serve``; this module does not import Gradio.

``POST /v1/chat/completions`` speaks OpenAI's format, so the ``openai`` client
and LangChain's ``ChatOpenAI`` work unchanged. ``choices[0].message.content``
is the referral first when one applies (an OpenAI client shows only this
text, and the referral must reach the person), then the answer with its [n]
markers, then any notice and a "Sources:" list. The
structured answer (``Answer.to_dict()``: citations, red flags, referral,
abstention) is in the extra field ``hip`` of the response, and of the last
chunk when streaming. System messages are ignored: nothing a caller sends
switches the safety layer off.

Bad input gets a 4xx with an OpenAI-style JSON error that names the field,
never a 500 or a stack trace.
"""

from .app import create_app, mcp_server
from .guard import API_PATHS, Guard, RateLimiter
from .metrics import Metrics
from .schema import MODEL_NAME, ApiError, content_of

__all__ = [
    "API_PATHS",
    "MODEL_NAME",
    "ApiError",
    "Guard",
    "Metrics",
    "RateLimiter",
    "content_of",
    "create_app",
    "mcp_server",
]
