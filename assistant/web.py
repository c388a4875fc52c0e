"""The Gradio chat page, its ``/ask`` API and the server: a thin front door over ``Assistant``.

The only module of the package that imports Gradio. It streams what the core
returns into the chat as HTML from ``render``: the answer with its [n] markers
as links to its sources, the referral as a warning block above it, and a
folded "Sources" block quoting each cited chunk with the quoted sentences marked.
``serve`` runs the page mounted on the HTTP API (``api``) as one app.

The conversation is kept in the browser (``gr.BrowserState``), so a reload or a
server restart keeps it; votes on answers go to ``feedback.FeedbackStore``. What
must happen in the browser (following a marker, copying plain text, keeping the
typed question, saying when the server is unreachable) is ``data/page.js``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypedDict

import gradio as gr
import uvicorn

from . import api, datafiles, texts
from .answer import Answer
from .core import Assistant
from .feedback import FeedbackStore, Rating, Reason, Vote
from .render import as_text, escape, render_answer

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

EXTRA_EXAMPLES = (
    "How long should I ice my hip?",
    "What stretches help tight hip flexors?",
    "What should I eat to help my hip recover?",
    "My leg goes numb on long runs and my hip aches. Should I worry?",
)
CONVERSATION_KEY = "hip-assistant-conversation"
MAX_KEPT_TURNS = 200
"""Turns the browser keeps; older ones are dropped from the saved conversation (localStorage is a few MB)."""
MAX_CLAIMED = 4096
"""Questions whose answering began that the server remembers, so no second run answers one of them again."""
# Gradio reads the annotations of the page's event functions at run time (gr.LikeData, the /ask schema), so every
# name in them must exist at run time (not only under TYPE_CHECKING).
_Update = dict[str, Any]
"""``gr.update(...)`` or ``gr.skip()``: a change to a component's properties instead of a value."""


class _Pending(TypedDict):
    """A question moved into the chat and not answered yet; `id` tells the submission it came from."""

    id: str
    question: str


def examples_for(bot: Assistant) -> list[str]:
    """The article's own FAQ questions, then a few everyday ones."""
    faqs = [d.metadata["title"] for d in bot.documents.values() if d.metadata.get("kind") == "faq"]
    return list(dict.fromkeys([*faqs, *EXTRA_EXAMPLES]))


def history_of(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation the assistant reads (messages format) from the turns the page keeps."""
    history: list[dict[str, Any]] = []
    for turn in turns:
        if turn.get("answer") is not None:
            history += [
                {"role": "user", "content": turn["question"]},
                {"role": "assistant", "content": turn["answer"].get("text", "")},
            ]
    return history


def render_turns(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat messages for kept turns: two per turn, so message i belongs to turn i // 2."""
    chat: list[dict[str, Any]] = []
    for turn in turns:
        chat.append({"role": "user", "content": as_text(turn["question"])})
        answer = turn.get("answer")
        content = (
            render_answer(Answer.from_dict(answer), key=turn["key"])
            if answer is not None
            else escape(texts.ANSWER_FAILED)
        )
        chat.append({"role": "assistant", "content": content})
    return chat


def _turn(key: str, question: str, answer: Answer | None) -> dict[str, Any]:
    """One kept turn: the answer's key (its sources' ids, its votes), the question, ``Answer.to_dict()``
    (None when answering failed)."""
    return {"key": key, "question": question, "answer": answer.to_dict() if answer is not None else None}


def _kept(turns: list[dict[str, Any]], turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The kept turns with `turn` added, the oldest dropped beyond ``MAX_KEPT_TURNS``."""
    return [*turns, turn][-MAX_KEPT_TURNS:]


def _turn_of(turns: list[dict[str, Any]], chat: list[dict[str, Any]], index: object) -> dict[str, Any] | None:
    """The turn of chat message `index` (an int, or a one-element sequence in some Gradio versions).

    The chat shows two messages per turn; when the oldest turns were dropped
    from the kept ones (``MAX_KEPT_TURNS``), the shown ones are counted from the end.
    """
    if isinstance(index, list | tuple):
        index = index[0] if index else None
    if not isinstance(index, int):
        return None
    position = index // 2 - (len(chat) // 2 - len(turns))
    return turns[position] if 0 <= position < len(turns) else None


def build_app(bot: Assistant | None = None) -> gr.Blocks:
    """The page. One Assistant serves every session; each browser keeps its own conversation."""
    bot = bot or Assistant()
    store = FeedbackStore(bot.settings.feedback_dir)

    def add_question(
        message: str, chat: list[dict[str, Any]], busy: bool, asked: int
    ) -> tuple[
        str | _Update, list[dict[str, Any]] | _Update, _Pending | _Update, bool | _Update, _Update, int | _Update
    ]:
        """Move the question from the box into the chat, unless it is empty or an answer is still coming.

        In those cases the text stays in the box, so nothing typed is lost. So it does when the chat this
        submission carries is older than the session's (`asked`: questions added since the conversation began,
        kept on the server): two quick submissions both carry the chat of before the first, and when the first's
        answer is done before the second is read, the second would replace the first question and its answer.
        """
        text = message or ""
        if not text.strip():
            gr.Warning(texts.EMPTY_QUESTION)
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if busy or sum(m.get("role") == "user" for m in chat) < asked:
            gr.Warning(texts.STILL_ANSWERING)
            # Put the text back: an earlier submission's reply may have cleared the box meanwhile.
            return message, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        chat = [*chat, {"role": "user", "content": as_text(text)}]
        return "", chat, {"id": uuid.uuid4().hex, "question": text}, True, gr.update(visible=True), asked + 1

    claimed: OrderedDict[str, None] = OrderedDict()  # pending questions an `answer` run has taken up

    async def answer(
        pending: _Pending | None, chat: list[dict[str, Any]], turns: list[dict[str, Any]]
    ) -> AsyncIterator[
        tuple[
            list[dict[str, Any]] | _Update,
            list[dict[str, Any]] | _Update,
            _Pending | _Update | None,
            bool | _Update,
            dict[str, Any] | _Update | None,
            _Update,
        ]
    ]:
        """Stream the answer into the chat. Async, so Stop (a cancelled task) also ends the answerer's work.

        Every submission's chain runs this, also one whose question `add_question` sent back to the box; that
        run finds the question of the submission in flight already taken up and changes nothing. It must still
        yield: a generator that yields nothing ends with every output set to None, the chat emptied.
        """
        if pending is None or pending["id"] in claimed:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        claimed[pending["id"]] = None  # no await since the check: no other run can take it in between
        while len(claimed) > MAX_CLAIMED:
            claimed.popitem(last=False)
        question, key = pending["question"], uuid.uuid4().hex[:12]
        chat = [*chat, {"role": "assistant", "content": render_answer(Answer(), key=key, streaming=True)}]
        total = Answer()
        yield chat, gr.skip(), pending, True, _turn(key, question, total), gr.skip()
        try:
            async for chunk in bot.astream(question, history_of(turns)):
                total = total + chunk
                chat[-1] = {"role": "assistant", "content": render_answer(total, key=key, streaming=True)}
                yield chat, gr.skip(), pending, True, _turn(key, question, total), gr.skip()
        except Exception:
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": escape(texts.ANSWER_FAILED)}
            yield chat, _kept(turns, _turn(key, question, None)), None, False, None, gr.update(visible=False)
            return
        chat[-1] = {"role": "assistant", "content": render_answer(total, key=key)}
        yield chat, _kept(turns, _turn(key, question, total)), None, False, None, gr.update(visible=False)

    def stop_answer(
        pending: _Pending | None,
        partial: dict[str, Any] | None,
        chat: list[dict[str, Any]],
        turns: list[dict[str, Any]],
    ) -> tuple[list[dict[str, Any]] | _Update, list[dict[str, Any]] | _Update, None, bool, None, _Update]:
        """Keep what was answered so far, marked as stopped, and free the box for the next question."""
        if pending is None:
            return gr.skip(), gr.skip(), None, False, None, gr.update(visible=False)
        key = partial["key"] if partial else uuid.uuid4().hex[:12]
        so_far = Answer.from_dict(partial["answer"]) if partial else Answer()
        so_far.notice = " ".join(n for n in (so_far.notice, texts.STOPPED_NOTICE) if n)
        message = {"role": "assistant", "content": render_answer(so_far, key=key)}
        chat = [*chat[:-1], message] if chat and chat[-1]["role"] == "assistant" else [*chat, message]
        return chat, _kept(turns, _turn(key, pending["question"], so_far)), None, False, None, gr.update(visible=False)

    def clear() -> tuple[list[dict[str, Any]], list[dict[str, Any]], None, bool, None, _Update, _Update, None, int]:
        """A new conversation: nothing shown, nothing kept, nothing the assistant remembers."""
        return [], [], None, False, None, gr.update(visible=False), gr.update(visible=False), None, 0

    def vote(
        data: gr.LikeData, chat: list[dict[str, Any]], turns: list[dict[str, Any]]
    ) -> tuple[_Update, str | _Update | None]:
        turn = _turn_of(turns, chat, data.index)
        if turn is None or turn.get("answer") is None:
            return gr.skip(), gr.skip()
        rating: Rating = "up" if data.liked is True else "down" if data.liked is False else "withdrawn"
        store.add(Vote(turn["key"], rating, turn["question"], turn["answer"]), bot.settings)
        if rating == "withdrawn":
            return gr.update(visible=False), None
        gr.Info(texts.FEEDBACK_THANKS)
        return gr.update(visible=rating == "down"), turn["key"] if rating == "down" else None

    def send_feedback(
        voted: str | None, reasons: list[Reason], comment: str, turns: list[dict[str, Any]]
    ) -> tuple[_Update, list[Reason] | _Update, str | _Update, None]:
        turn = next((t for t in turns if t["key"] == voted), None)
        if turn is None:
            return gr.update(visible=False), gr.skip(), gr.skip(), None
        store.add(
            Vote(turn["key"], "down", turn["question"], turn["answer"], tuple(reasons), comment or ""), bot.settings
        )
        gr.Info(texts.FEEDBACK_SAVED)
        return gr.update(visible=False), [], "", None

    # list[Any]: whatever JSON a client sends (the core reads what it can); `list` and `dict` are what the /ask
    # schema shows, as before.
    def api_ask(message: str, history: list[Any]) -> dict[str, Any]:
        """Answer.to_dict() for a message and its history (messages format)."""
        return bot.ask(message, history).to_dict()

    demo: gr.Blocks  # gradio leaves Blocks.__enter__ untyped; it returns the Blocks
    with gr.Blocks(title="Hip pain from running: article assistant") as demo:
        gr.Markdown(f"# Hip pain from running\n{texts.SCOPE_LINE}  \n*{texts.DISCLAIMER}*", elem_id="hip-intro")
        gr.HTML(
            f'<div id="hip-status" role="status" hidden>{escape(texts.SERVER_DOWN)}</div>',
            padding=False,
            elem_id="hip-status-box",
        )
        chat = gr.Chatbot(
            label="Conversation",
            show_label=False,
            height=520,
            elem_id="hip-chat",
            autoscroll=False,  # page.js shows each new question at the top, so answers are read from their start
            buttons=[],  # per-answer Copy is in the message (plain text); "Copy conversation" is below
            sanitize_html=True,
            render_markdown=True,
            feedback_options=("Like", "Dislike"),
            latex_delimiters=[],  # the article has no maths; "$$" a user types stays text
        )
        turns = gr.BrowserState([], storage_key=CONVERSATION_KEY, secret=bot.settings.browser_secret)
        pending = gr.State(None)
        busy = gr.State(False)
        asked = gr.State(0)
        partial = gr.State(None)
        voted = gr.State(None)
        with gr.Row(elem_id="hip-ask-row"):
            box = gr.Textbox(
                label="Your question",
                placeholder="Ask about hip pain from running\u2026",
                show_label=False,
                scale=8,
                elem_id="hip-question",
                max_lines=6,
            )
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="hip-ask")
            stop = gr.Button("Stop", variant="stop", scale=1, visible=False, elem_id="hip-stop")
        with gr.Row(elem_id="hip-tools-row"):
            new = gr.Button("New conversation", size="sm", scale=0, min_width=160, elem_id="hip-clear")
            copy_all = gr.Button("Copy conversation", size="sm", scale=0, min_width=160, elem_id="hip-copy-all")
        with gr.Group(visible=False, elem_id="hip-feedback") as feedback_box:
            reasons = gr.CheckboxGroup(
                choices=[(label, name) for name, label in texts.FEEDBACK_REASONS.items()],
                label=texts.FEEDBACK_PROMPT,
                elem_id="hip-feedback-reasons",
            )
            comment = gr.Textbox(label="Anything else you want to tell us (optional)", lines=2, elem_id="hip-comment")
            send_comment = gr.Button("Send feedback", size="sm", elem_id="hip-send-feedback")
        examples = gr.Examples(examples=[[q] for q in examples_for(bot)], inputs=[box], label="Try a question")

        answering = []
        for trigger in (box.submit, send.click, examples.load_input_event.then):
            # Queued one at a time (it takes microseconds) so two quick submissions see each other's state.
            answering.append(
                trigger(
                    add_question,
                    [box, chat, busy, asked],
                    [box, chat, pending, busy, stop, asked],
                    concurrency_limit=1,
                    concurrency_id="hip-add-question",
                    trigger_mode="multiple",  # a second submission must reach add_question, not be dropped
                    api_visibility="private",
                ).then(
                    answer,
                    [pending, chat, turns],
                    [chat, turns, pending, busy, partial, stop],
                    api_visibility="private",
                    trigger_mode="multiple",  # after Stop, the page may still count the cancelled run as pending
                )
            )
        stop.click(
            stop_answer,
            [pending, partial, chat, turns],
            [chat, turns, pending, busy, partial, stop],
            cancels=answering,
            api_visibility="private",
        )
        for reset in (new.click, chat.clear):  # the button below the box and the Chatbot's own bin icon
            reset(
                clear,
                None,
                [chat, turns, pending, busy, partial, stop, feedback_box, voted, asked],
                cancels=answering,
                api_visibility="private",
            )
        copy_all.click(None, js="() => window.hipCopyConversation()")
        chat.like(vote, [chat, turns], [feedback_box, voted], api_visibility="private").then(
            None, js="() => document.getElementById('hip-feedback-reasons')?.scrollIntoView({block: 'nearest'})"
        )
        send_comment.click(
            send_feedback,
            [voted, reasons, comment, turns],
            [feedback_box, reasons, comment, voted],
            api_visibility="private",
        )
        demo.load(render_turns, [turns], [chat], api_visibility="private")
        # Whole answers for programs (gradio_client, Gradio's call API): more slots than the chat's two, since
        # most of a request's time in Gradio's queue is waiting, not answering.
        gr.api(api_ask, api_name="ask", concurrency_limit=8)  # type: ignore[attr-defined]  # gradio's __all__ omits api
    return demo


def make_theme() -> gr.themes.Base:
    """System fonts only (the default theme would fetch fonts from Google), and text of 4.5:1 contrast or more."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    ).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_text_color="white",
        block_label_text_color="*neutral_700",
        block_title_text_color="*neutral_800",
        body_text_color_subdued="*neutral_600",
    )


class Server:
    """The page and the HTTP API as one ASGI app under uvicorn: its URL, and ``close``."""

    def __init__(self, app: FastAPI, demo: gr.Blocks, host: str, port: int) -> None:
        self.app, self.demo = app, demo
        self.url = f"http://{host}:{port}/"
        # Open pages hold a heartbeat stream; a shutdown waits for them 2 s, not until they go.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C)."""
        self._server.run()

    def start(self, timeout: float = 60) -> Server:
        """Serve on a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="hip-server")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=30)


def create_server(
    bot: Assistant | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    concurrency: int = 2,
    mcp: bool = False,
) -> Server:
    """The API (``assistant.api``, and its MCP tool when `mcp`) with the page mounted at ``/``, on host:port."""
    bot = bot or Assistant()
    demo = build_app(bot)
    demo.queue(default_concurrency_limit=concurrency, max_size=256)
    app = api.create_app(bot, mcp=mcp)
    app = gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=host,
        server_port=port,
        auth=auth,
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=["api"],
        theme=make_theme(),
        css=datafiles.text("page.css"),
        head=f"<script>{datafiles.text('page.js')}</script>",
    )
    return Server(app, demo, host, port)


def serve(
    bot: Assistant | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    concurrency: int = 2,
    block: bool = True,
    mcp: bool = False,
) -> Server:
    """Serve the page and the API; with ``block=False`` return the running server (tests close it)."""
    server = create_server(bot, host=host, port=port, auth=auth, concurrency=concurrency, mcp=mcp)
    if block:
        server.run()
        return server
    return server.start()
