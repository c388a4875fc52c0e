"""What the API reads and writes: request bodies, the error it answers with, and the text a client shows.

``ApiError`` is an OpenAI-style error naming the field at fault; ``split``
turns chat messages into the question and the conversation before it;
``content_of`` is the text an OpenAI client shows: the referral first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import plain
from ..answer import Answer
from ..errors import HipAssistantError

MODEL_NAME = "hip-assistant"


class ApiError(HipAssistantError):
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


_UNION_TAG = re.compile(r"^(str|int|float|bool|list\[.*\]|dict\[.*\]|[A-Z]\w*)$")


def field_name(loc: Sequence[int | str]) -> str:
    """A validation error's location as people write it: messages[0].role (no pydantic union tags)."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path") or (isinstance(part, str) and _UNION_TAG.match(part)):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def split(messages: list[ChatMessage], *, max_chars: int, max_messages: int) -> tuple[str, list[dict[str, str]]]:
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
