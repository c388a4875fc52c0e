"""The page's HTML for answers and the user's words: pure functions, no Gradio.

Everything shown is escaped first, so what a user types (``<script>`` or
Markdown) appears as plain text and article text is never read as markup. A
message is one HTML block with no blank line inside, so Markdown leaves it
alone. Each answer has a key that makes its sources' element ids unique on
the page; its [n] markers link to them.
"""

from __future__ import annotations

import html
import re

from . import plain, texts
from .answer import Answer, Citation, Referral, ReferralCriterion

_MARKER = re.compile(r"\[(\d+)\]")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


def as_text(value: str) -> str:
    """A chat message that displays `value` exactly as typed: no tags, no formatting, no links.

    One HTML block (no blank line inside) is raw HTML to Markdown, so nothing
    in it is read as Markdown; the text itself is HTML-escaped.
    """
    escaped = html.escape(value, quote=True).replace("\r\n", "\n").replace("\n", "<br>")
    return f'<div class="hip-user">{escaped}</div>'


def escape(value: str) -> str:
    """HTML-escaped, quotes too."""
    return html.escape(value, quote=True)


def render_referral(referral: Referral, *, announce: bool = True) -> str:
    """The referral as people scan it: heading, the matching criteria, the others folded, one-line disclaimer.

    `announce` adds ``role="alert"``; it is left off while the answer streams,
    so a screen reader announces the warning once, not at every piece.
    """

    def item(c: ReferralCriterion) -> str:
        said = f" (you wrote \u201c{escape(c.trigger)}\u201d)" if c.trigger else ""
        quote = "" if c.in_answer else f": \u201c{escape(c.quote)}\u201d"
        return f"<li><strong>{escape(c.title)}</strong>{said}{quote}</li>"

    if referral.kind == "reminder":
        return f'<div class="hip-reminder">\u26a0 {escape(referral.text)}</div>'
    role = ' role="alert"' if announce else ""
    parts = [
        f'<div class="hip-warning"{role}><strong class="hip-warning-head">\u26a0 {escape(referral.heading)}</strong>',
    ]
    if referral.shown:
        parts.append("<ul>" + "".join(item(c) for c in referral.shown) + "</ul>")
    if referral.kind == "flagged" and referral.others:
        parts.append(
            f"<details><summary>{escape(texts.REFERRAL_OTHERS)}</summary><ul>"
            + "".join(item(c) for c in referral.others)
            + "</ul></details>"
        )
    parts.append(f'<p class="hip-disclaimer">{escape(referral.disclaimer)}</p></div>')
    return "".join(parts)


def source_id(key: str, marker: int) -> str:
    """The element id of source [marker] of the answer `key`: what its [n] links to."""
    return f"hip-{key}-{marker}"


def highlight(text: str, quotes: tuple[str, ...]) -> str:
    """`text` escaped, with each quoted sentence found in it wrapped in ``<mark>``."""
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        start = text.find(quote) if quote else -1
        if start >= 0:
            spans.append((start, start + len(quote)))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out += [escape(text[at:start]), f"<mark>{escape(text[start:end])}</mark>"]
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def render_sources(answer: Answer, key: str) -> str:
    """The cited chunks, folded: "[n] Section › Item" (chunk id as tooltip) and the chunk, quoted parts marked."""
    items = [
        f'<li class="hip-source" id="{source_id(key, c.marker)}" tabindex="-1" title="{escape(c.chunk_id)}">'
        f"<strong>[{c.marker}] {escape(plain.source_label(c))}</strong>"
        f"<blockquote>{highlight(c.text, c.quotes)}</blockquote></li>"
        for c in answer.citations
    ]
    return (
        f'<details class="hip-sources"><summary>Sources ({len(answer.citations)})</summary>'
        f"<ul>{''.join(items)}</ul></details>"
    )


def render_answer(answer: Answer, *, key: str = "answer", streaming: bool = False) -> str:
    """One chat message: warning block, answer text with markers, then sources and Copy (once complete).

    `key` makes the ids of this answer's sources unique on the page. Parts are
    joined without blank lines so the message stays one HTML block and nothing
    inside is reinterpreted as Markdown.
    """
    parts = []
    if answer.referral:
        parts.append(render_referral(answer.referral, announce=not streaming))
    if answer.notice:
        parts.append(f'<p class="hip-notice">{escape(answer.notice)}</p>')
    cited = {} if streaming else {c.marker: c for c in answer.citations}
    body = render_text(answer.text, key=key, cited=cited)
    if streaming and not body:
        body = "\u2026"
    parts.append(f'<div class="hip-answer">{body}</div>')
    if not streaming:
        if answer.citations:
            parts.append(render_sources(answer, key))
        # Newlines as character references: a blank line would end the HTML block for Markdown.
        copied = escape(plain.answer_text(answer)).replace("\n", "&#10;")
        parts.append(
            '<div class="hip-tools"><button type="button" class="hip-copy">Copy answer</button>'
            f'<pre class="hip-plain" hidden>{copied}</pre></div>'
        )
    return "\n".join(parts)


def render_text(text: str, *, key: str = "answer", cited: dict[int, Citation] | None = None) -> str:
    """The answer's text as HTML: paragraphs, its "- **Title**: ..." lines as a bulleted list, [n] as links.

    Built here rather than left to Markdown because the message is one raw HTML
    block; everything is escaped first, so only the answer's own structure
    becomes markup. A marker whose citation is in `cited` links to that source.
    """
    cited = cited or {}
    html_parts: list[str] = []
    bullets: list[str] = []

    def marker(match: re.Match[str]) -> str:
        c = cited.get(int(match.group(1)))
        if c is None:
            return f'<span class="hip-marker">{match.group(0)}</span>'
        tip = escape(f"Source {c.marker}: {plain.source_label(c)}")
        return f'<a class="hip-marker" href="#{source_id(key, c.marker)}" title="{tip}">{match.group(0)}</a>'

    def close_list() -> None:
        if bullets:
            html_parts.append("<ul>" + "\n".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for line in text.split("\n"):
        body = _MARKER.sub(marker, escape(line.strip()))
        body = _BOLD.sub(r"<strong>\1</strong>", body)
        if line.startswith("- "):
            bullets.append(body[2:])
        elif body:
            close_list()
            html_parts.append(f"<p>{body}</p>" if "\n" in text else body)
    close_list()
    return "\n".join(html_parts)
