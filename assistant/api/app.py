"""The app: OpenAI-compatible chat completions, plain JSON ``/v1/ask``, health, models, metrics and MCP."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import texts
from ..answer import Answer
from ..core import Assistant
from ..settings import Settings
from .guard import API_PATHS, Guard, RateLimiter
from .metrics import Metrics
from .schema import (
    MODEL_NAME,
    ApiError,
    AskRequest,
    ChatMessage,
    ChatRequest,
    ToolAnswer,
    content_of,
    field_name,
    split,
)

if TYPE_CHECKING:
    from mcp.server.fastmcp import FastMCP

log = logging.getLogger(__name__)


def mcp_server(bot: Assistant) -> FastMCP:
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
        where = field_name(first.get("loc", ()))
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

    async def answered(endpoint: str, question: str, history: list[dict[str, str]], debug: bool) -> Answer:
        """The whole answer, counted in the metrics."""
        started = time.perf_counter()
        answer = await bot.aask(question, history, debug=debug or None)
        metrics.answered(endpoint, answer, time.perf_counter() - started)
        return answer

    # response_model=None: the return annotations are for the checker; FastAPI would read them as a response model.
    @router.post("/chat/completions", response_model=None)
    async def chat_completions(body: ChatRequest, debug: bool = False) -> StreamingResponse | dict[str, Any]:
        question, history = split(
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

    @router.post("/ask", response_model=None)
    async def ask(body: AskRequest, debug: bool = False) -> dict[str, Any]:
        messages = [*body.history, ChatMessage(role="user", content=body.question)]
        try:
            question, history = split(
                messages, max_chars=settings.api_max_message_chars, max_messages=settings.api_max_messages
            )
        except ApiError as error:  # name the fields of this request: question, history[i]
            last = f"messages[{len(messages) - 1}].content"
            named = "question" if error.param == last else (error.param or "").replace("messages", "history", 1)
            error.message = error.message.replace(error.param or "", named, 1)
            error.param = named
            raise
        return (await answered("/v1/ask", question, history, debug)).to_dict()

    @router.get("/health", response_model=None)
    async def health() -> dict[str, Any]:
        return {
            "status": bot.status,
            "index": bot.index.location,
            "index_problem": bot.ranker.outage.reason or None,
            "answerer": settings.answerer,
            "chunks": len(bot.documents),
            "workers": (
                {"count": bot.workers.count, "answers": {str(pid): n for pid, n in bot.workers.answers.items()}}
                if bot.workers is not None
                else None
            ),
        }

    @router.get("/models", response_model=None)
    async def models() -> dict[str, Any]:
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
    history: list[dict[str, str]],
    ident: str,
    created: int,
    model: str,
    debug: bool = False,
) -> AsyncIterator[str]:
    """OpenAI's chunk format: the content grows piece by piece; the last chunk carries ``hip``."""

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
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
