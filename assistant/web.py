"""The Gradio chat page and its ``/ask`` API: a thin front door over ``Assistant``.

The only module of the package that imports Gradio. It renders what the core
returns: the streamed answer with its [n] markers, the referral as a warning
block above it, and a collapsible "Sources" block quoting each cited chunk.
Everything shown is escaped first, so what a user types (``<script>`` or
Markdown) appears as plain text and article text is never read as markup.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator

import gradio as gr

from . import texts
from .answer import Answer, Referral
from .core import Assistant

log = logging.getLogger(__name__)

EXTRA_EXAMPLES = (
    "How long should I ice my hip?",
    "What stretches help tight hip flexors?",
    "What should I eat to help my hip recover?",
    "My leg goes numb on long runs and my hip aches. Should I worry?",
)

CSS = """
.hip-warning { background: #fff4e5; border: 2px solid #c75b00; border-radius: 8px; padding: 10px 14px;
  margin-bottom: 10px; color: #4a2500; }
.hip-warning strong { color: #8a3b00; }
.hip-notice { font-style: italic; opacity: 0.85; }
.hip-user { white-space: pre-wrap; }
.hip-marker { font-weight: 600; color: #1d4ed8; }
.hip-sources { margin-top: 10px; border-top: 1px solid #d0d7de; padding-top: 6px; }
.hip-sources blockquote { margin: 4px 0 10px 0; padding-left: 10px; border-left: 3px solid #9ca3af; }
.hip-sources code { font-size: 0.8em; }
"""

_MARKER = re.compile(r"\[(\d+)\]")


def as_text(value: str) -> str:
    """A chat message that displays `value` exactly as typed: no tags, no formatting, no links.

    One HTML block (no blank line inside) is raw HTML to Markdown, so nothing
    in it is read as Markdown; the text itself is HTML-escaped.
    """
    escaped = html.escape(value, quote=True).replace("\r\n", "\n").replace("\n", "<br>")
    return f'<div class="hip-user">{escaped}</div>'


def _escape(value: str) -> str:
    return html.escape(value, quote=True)


def render_referral(referral: Referral) -> str:
    """The referral as people scan it: heading, the matching criteria, the others folded, one-line disclaimer."""

    def item(c) -> str:
        said = f" (you wrote \u201c{_escape(c.trigger)}\u201d)" if c.trigger else ""
        return f"<li><strong>{_escape(c.title)}</strong>{said}: \u201c{_escape(c.quote)}\u201d</li>"

    if referral.kind == "reminder":
        return f'<div class="hip-reminder">\u26a0 {_escape(referral.text)}</div>'
    shown = referral.triggered if referral.kind == "flagged" else referral.criteria
    parts = [
        f'<div class="hip-warning" role="alert"><strong class="hip-warning-head">\u26a0 {_escape(referral.heading)}</strong>',
        "<ul>" + "".join(item(c) for c in shown) + "</ul>",
    ]
    if referral.kind == "flagged" and referral.others:
        parts.append(
            f"<details><summary>{_escape(texts.REFERRAL_OTHERS)}</summary><ul>"
            + "".join(item(c) for c in referral.others)
            + "</ul></details>"
        )
    parts.append(f'<p class="hip-disclaimer">{_escape(referral.disclaimer)}</p></div>')
    return "".join(parts)


def render_sources(answer: Answer) -> str:
    items = []
    for c in answer.citations:
        where = _escape(c.section + (f" \u203a {c.title}" if c.title else ""))
        items.append(
            f"<li><strong>[{c.marker}] {where}</strong> <code>{_escape(c.chunk_id)}</code>"
            f"<blockquote>{_escape(c.text)}</blockquote></li>"
        )
    return (
        f'<details class="hip-sources"><summary>Sources ({len(answer.citations)})</summary>'
        f"<ul>{''.join(items)}</ul></details>"
    )


def render_answer(answer: Answer, *, streaming: bool = False) -> str:
    """One chat message: warning block, answer text with markers, then sources (once complete).

    Parts are joined without blank lines so the message stays one HTML block
    and nothing inside is reinterpreted as Markdown.
    """
    parts = []
    if answer.referral:
        parts.append(render_referral(answer.referral))
    if answer.notice:
        parts.append(f'<p class="hip-notice">{_escape(answer.notice)}</p>')
    body = render_text(answer.text)
    if streaming and not body:
        body = "\u2026"
    parts.append(f'<div class="hip-answer">{body}</div>')
    if answer.citations and not streaming:
        parts.append(render_sources(answer))
    return "\n".join(parts)


_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


def render_text(text: str) -> str:
    """The answer's text as HTML: paragraphs, and its "- **Title**: ..." lines as a bulleted list.

    Built here rather than left to Markdown because the message is one raw HTML
    block; everything is escaped first, so only the answer's own structure
    becomes markup.
    """
    html_parts: list[str] = []
    bullets: list[str] = []

    def close_list() -> None:
        if bullets:
            html_parts.append("<ul>" + "\n".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for line in text.split("\n"):
        body = _MARKER.sub(r'<span class="hip-marker">[\1]</span>', _escape(line.strip()))
        body = _BOLD.sub(r"<strong>\1</strong>", body)
        if line.startswith("- "):
            bullets.append(body[2:])
        elif body:
            close_list()
            html_parts.append(f"<p>{body}</p>" if "\n" in text else body)
    close_list()
    return "\n".join(html_parts)


def examples_for(bot: Assistant) -> list[str]:
    """The article's own FAQ questions, then a few everyday ones."""
    faqs = [d.metadata["title"] for d in bot.documents.values() if d.metadata.get("kind") == "faq"]
    return list(dict.fromkeys([*faqs, *EXTRA_EXAMPLES]))


def build_app(bot: Assistant | None = None) -> gr.Blocks:
    """The page. One Assistant serves every session; each session keeps its own history."""
    bot = bot or Assistant()

    def add_question(message: str, chat: list, busy: bool):
        """Move the question from the box into the chat, unless it is empty or an answer is still coming.

        In those cases the text stays in the box, so nothing typed is lost.
        """
        text = message or ""
        if not text.strip():
            gr.Warning(texts.EMPTY_QUESTION)
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if busy:
            gr.Warning(texts.STILL_ANSWERING)
            # Put the text back: an earlier submission's reply may have cleared the box meanwhile.
            return message, gr.skip(), gr.skip(), gr.skip()
        return "", [*chat, {"role": "user", "content": as_text(text)}], text, True

    def answer(pending: str | None, chat: list, history: list) -> Iterator[tuple]:
        if pending is None:
            return
        chat = [*chat, {"role": "assistant", "content": render_answer(Answer(), streaming=True)}]
        total = Answer()
        try:
            for chunk in bot.stream(pending, history):
                total = total + chunk
                chat[-1] = {"role": "assistant", "content": render_answer(total, streaming=True)}
                yield chat, history, pending, True
        except Exception:
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": _escape(texts.ANSWER_FAILED)}
            yield chat, history, None, False
            return
        chat[-1] = {"role": "assistant", "content": render_answer(total)}
        history = [*history, {"role": "user", "content": pending}, {"role": "assistant", "content": total.text}]
        yield chat, history, None, False

    def api_ask(message: str, history: list) -> dict:
        """Answer.to_dict() for a message and its history (messages format)."""
        return bot.ask(message, history).to_dict()

    with gr.Blocks(title="Hip pain from running: article assistant") as demo:
        gr.Markdown(f"## Hip pain from running\n{texts.SCOPE_LINE}  \n*{texts.DISCLAIMER}*", elem_id="hip-intro")
        chat = gr.Chatbot(
            label="Conversation",
            height=520,
            elem_id="hip-chat",
            sanitize_html=True,
            render_markdown=True,
            feedback_options=None,
            latex_delimiters=[],  # the article has no maths; "$$" a user types stays text
        )
        history = gr.State([])
        pending = gr.State(None)
        busy = gr.State(False)
        with gr.Row():
            box = gr.Textbox(
                placeholder="Ask about hip pain from running\u2026",
                show_label=False,
                scale=8,
                elem_id="hip-question",
                max_lines=6,
            )
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="hip-ask")
        examples = gr.Examples(examples=[[q] for q in examples_for(bot)], inputs=[box], label="Try a question")

        for trigger in (box.submit, send.click, examples.load_input_event.then):
            # Queued one at a time (it takes microseconds) so two quick submissions see each other's state.
            trigger(
                add_question,
                [box, chat, busy],
                [box, chat, pending, busy],
                concurrency_limit=1,
                concurrency_id="hip-add-question",
                trigger_mode="multiple",  # a second submission must reach add_question, not be dropped
                api_visibility="private",
            ).then(answer, [pending, chat, history], [chat, history, pending, busy], api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return demo


def make_theme() -> gr.themes.Base:
    """System fonts only: the default theme would fetch fonts from Google."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def serve(
    bot: Assistant | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    concurrency: int = 2,
    block: bool = True,
):
    """Start the page on host:port (loopback unless asked); returns (app, local_url)."""
    demo = build_app(bot)
    demo.queue(default_concurrency_limit=concurrency, max_size=256)
    _, local_url, _ = demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=False,
        prevent_thread_lock=not block,
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=["api"],
        theme=make_theme(),
        css=CSS,
        quiet=True,
    )
    return demo, local_url
