"""The HTTP API: OpenAI-compatible chat completions, plain JSON ``/v1/ask``, health and Prometheus metrics.

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

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import plain, texts
from .answer import Answer
from .core import Assistant
from .settings import Settings

log = logging.getLogger(__name__)

MODEL_NAME = "hip-assistant"
API_PATHS = ("/v1/", "/mcp")
"""Paths the API key, rate limit and JSON errors apply to (the page has its own login)."""


class ApiError(Exception):
    """A request the API refuses: HTTP status, OpenAI error type, the field at fault and a message."""

    def __init__(self, status: int, message: str, *, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.kind = status, message, param, kind

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": None}}
        return JSONResponse(body, status_code=self.status, headers=headers)


class TextPart(BaseModel):
    """One part of a message's content in OpenAI's list form; only text parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; options this assistant has no use for (temperature ...) are accepted."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    history: list[ChatMessage] = Field(default_factory=list)


class ToolAnswer(BaseModel):
    """What the MCP tool returns: the text to show as is, and ``Answer.to_dict()``."""

    content: str
    answer: dict[str, Any]


class Metrics:
    """Prometheus metrics of one app (its own registry, so several apps in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("hip_requests", "HTTP API requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram(
            "hip_request_seconds",
            "Time to the whole answer",
            ["endpoint"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.abstentions = Counter(
            "hip_abstentions", "Answers that said the article does not cover it", registry=self.registry
        )
        self.red_flags = Counter(
            "hip_red_flags", "Red flags detected, by criterion", ["criterion"], registry=self.registry
        )
        self.errors = Counter(
            "hip_errors", "Requests that failed, by kind", ["endpoint", "kind"], registry=self.registry
        )

    def answered(self, endpoint: str, answer: Answer, seconds: float) -> None:
        self.latency.labels(endpoint).observe(seconds)
        if answer.abstained:
            self.abstentions.inc()
        for criterion in answer.red_flags:
            self.red_flags.labels(criterion).inc()


class RateLimiter:
    """At most `per_minute` requests per client in any sliding minute; 0 turns it off."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> float:
        """0 when the request may go ahead (and it is counted), else seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(client, deque())
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return 60 - (now - seen[0])
            seen.append(now)
            return 0.0


_UNION_TAG = re.compile(r"^(str|int|float|bool|list\[.*\]|dict\[.*\]|[A-Z]\w*)$")


class Guard:
    """API key, rate limit and body size for API paths; JSON errors, never a stack trace.

    A plain ASGI middleware: every other path (the page, its event streams)
    passes straight through untouched, where Starlette's ``BaseHTTPMiddleware``
    would wrap each of them (the API's answers per second rose from 53.9 to
    64.6 on /v1/ask with this: one run each, 16 clients, ``python -m evals.load``).
    """

    def __init__(self, app, *, settings: Settings, metrics: Metrics, limiter: RateLimiter) -> None:
        self.app, self.settings, self.metrics, self.limiter = app, settings, metrics, limiter

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(API_PATHS) or path == "/v1/health":
            await self.app(scope, receive, send)
            return
        endpoint = path.rstrip("/")
        refusal = self._refusal(scope)
        if refusal is not None:
            error, headers = refusal
            self.metrics.requests.labels(endpoint, str(error.status)).inc()
            await error.response(headers)(scope, receive, send)
            return
        status = {"code": 500, "started": False}

        async def tracked(message) -> None:
            if message["type"] == "http.response.start":
                status.update(code=message["status"], started=True)
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:  # an error in the assistant: logged here, a plain message there
            log.exception("API request failed: %s", path)
            self.metrics.errors.labels(endpoint, "internal").inc()
            if status["started"]:
                raise
            error = ApiError(500, "The assistant failed to answer; please try again.", kind="server_error")
            await error.response()(scope, receive, send)
        self.metrics.requests.labels(endpoint, str(status["code"])).inc()

    def _refusal(self, scope) -> tuple[ApiError, dict[str, str] | None] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        if self.settings.api_key and headers.get("authorization", "") != f"Bearer {self.settings.api_key}":
            message = "Missing or wrong API key (Authorization: Bearer ...)."
            return ApiError(401, message, kind="authentication_error"), None
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.limiter.retry_after(client)
        if wait:
            error = ApiError(429, f"Too many requests; try again in {wait:.0f} s.", kind="rate_limit_error")
            return error, {"Retry-After": str(max(1, round(wait)))}
        size = int(headers.get("content-length") or 0)
        if size > self.settings.api_max_body_bytes:
            limit = self.settings.api_max_body_bytes
            return ApiError(413, f"The request body is {size:,} bytes; the limit is {limit:,}."), None
        return None


def _field(loc: tuple | list) -> str:
    """A validation error's location as people write it: messages[0].role (no pydantic union tags)."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path") or (isinstance(part, str) and _UNION_TAG.match(part)):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _split(messages: list[ChatMessage], *, max_chars: int, max_messages: int) -> tuple[str, list[dict]]:
    """The question (the last message, which must be the user's) and the conversation before it."""
    if len(messages) > max_messages:
        raise ApiError(400, f"messages: {len(messages)} messages; the limit is {max_messages}.", param="messages")
    for i, message in enumerate(messages):
        size = len(message.text())
        if size > max_chars:
            raise ApiError(
                400,
                f"messages[{i}].content is {size:,} characters; the limit is {max_chars:,}.",
                param=f"messages[{i}].content",
            )
    last = messages[-1]
    if last.role != "user":
        raise ApiError(
            400,
            "messages[-1].role: the last message must be the user's question (role 'user').",
            param="messages[-1].role",
        )
    if not last.text().strip():
        where = f"messages[{len(messages) - 1}].content"
        raise ApiError(400, f"{where}: the question is empty.", param=where)
    history = [{"role": m.role, "content": m.text()} for m in messages[:-1] if m.role in ("user", "assistant")]
    return last.text(), history


def content_of(answer: Answer, *, complete: bool = True) -> str:
    """What an OpenAI client shows: the referral, the answer (Markdown, with its [n] markers), then any
    notice and the sources. In this order the text only grows while an answer streams."""
    content = (f"{answer.referral.text}\n\n" if answer.referral else "") + answer.text
    if complete:
        if answer.notice:
            content += f"\n\n({answer.notice})"
        if answer.citations:
            content += "\n\n" + "\n".join(plain.source_lines(answer))
    return content


def mcp_server(bot: Assistant):
    """An MCP server (streamable HTTP at ``/mcp``) whose one tool, ``ask``, is the assistant."""
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("hip-assistant", instructions=texts.SCOPE_LINE, stateless_http=True, json_response=True)

    @server.tool(name="ask", description=f"{texts.SCOPE_LINE} {texts.MCP_TOOL_NOTE}")
    async def ask(question: str, history: list[dict[str, str]] | None = None) -> ToolAnswer:
        """The answer to show (referral first, [n] markers, sources) and the structured answer."""
        answer = await bot.aask(question, history or [])
        return ToolAnswer(content=content_of(answer), answer=answer.to_dict())

    return server


def create_app(bot: Assistant, *, settings: Settings | None = None, mcp: bool = False) -> FastAPI:
    """A FastAPI app with the API routes (and the MCP tool when asked); `settings` (default the assistant's)
    set the key, limits and rate."""
    settings = settings or bot.settings
    lifespan = None
    if mcp:
        server = mcp_server(bot)
        mcp_app = server.streamable_http_app()

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with server.session_manager.run():
                yield

    app = FastAPI(title="hip-assistant", docs_url="/v1/docs", openapi_url="/v1/openapi.json", lifespan=lifespan)
    if mcp:
        app.router.routes.extend(mcp_app.routes)  # /mcp, before the page claims every other path
    metrics = Metrics()
    app.state.metrics = metrics
    router = APIRouter(prefix="/v1")

    app.add_middleware(Guard, settings=settings, metrics=metrics, limiter=RateLimiter(settings.api_rate_limit))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "Invalid request"}
        where = _field(first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return ApiError(400, "The request body is not valid JSON.", param="body").response()
        return ApiError(400, f"{where}: {first.get('msg', 'invalid')}", param=where).response()

    @app.exception_handler(ApiError)
    async def refused(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PATHS):
            return ApiError(exc.status_code, str(exc.detail), kind="invalid_request_error").response()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    async def answered(endpoint: str, question: str, history: list[dict], debug: bool) -> Answer:
        """The whole answer, counted in the metrics."""
        started = time.perf_counter()
        answer = await bot.aask(question, history, debug=debug or None)
        metrics.answered(endpoint, answer, time.perf_counter() - started)
        return answer

    @router.post("/chat/completions")
    async def chat_completions(body: ChatRequest, debug: bool = False):
        question, history = _split(
            body.messages, max_chars=settings.api_max_message_chars, max_messages=settings.api_max_messages
        )
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if body.stream:
            return StreamingResponse(
                _sse(bot, metrics, question, history, ident, created, body.model, debug),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        answer = await answered("/v1/chat/completions", question, history, debug)
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content_of(answer)}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "hip": answer.to_dict(),
        }

    @router.post("/ask")
    async def ask(body: AskRequest, debug: bool = False):
        messages = [*body.history, ChatMessage(role="user", content=body.question)]
        try:
            question, history = _split(
                messages, max_chars=settings.api_max_message_chars, max_messages=settings.api_max_messages
            )
        except ApiError as error:  # name the fields of this request: question, history[i]
            last = f"messages[{len(messages) - 1}].content"
            named = "question" if error.param == last else (error.param or "").replace("messages", "history", 1)
            error.message = error.message.replace(error.param or "", named, 1)
            error.param = named
            raise
        return (await answered("/v1/ask", question, history, debug)).to_dict()

    @router.get("/health")
    async def health():
        return {
            "status": bot.status,
            "index": bot.index.location,
            "index_problem": bot.ranker.outage.reason or None,
            "answerer": settings.answerer,
            "chunks": len(bot.documents),
        }

    @router.get("/models")
    async def models():
        return {
            "object": "list",
            "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "hip-assistant"}],
        }

    app.include_router(router)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _sse(
    bot: Assistant,
    metrics: Metrics,
    question: str,
    history: list[dict],
    ident: str,
    created: int,
    model: str,
    debug: bool = False,
) -> AsyncIterator[str]:
    """OpenAI's chunk format: the content grows piece by piece; the last chunk carries ``hip``."""

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    started = time.perf_counter()
    yield chunk({"role": "assistant", "content": ""})
    total, sent = Answer(), ""
    async for piece in bot.astream(question, history, debug=debug or None):
        total = total + piece
        shown = content_of(total, complete=False)  # notice and sources go out with the last chunk
        if shown.startswith(sent) and len(shown) > len(sent):
            yield chunk({"content": shown[len(sent) :]})
            sent = shown
    whole = content_of(total)
    rest = whole[len(sent) :] if whole.startswith(sent) else "\n\n" + whole
    metrics.answered("/v1/chat/completions", total, time.perf_counter() - started)
    yield chunk({"content": rest} if rest else {}, "stop", hip=total.to_dict())
    yield "data: [DONE]\n\n"
