"""An answer as plain text: what the terminal prints and what the page's Copy buttons copy.

One renderer for both, so a copied answer reads like the CLI's: the referral,
any notice, the text with its [n] markers and bullets, then a "Sources" list
of "Section › Item" with the quoted article text. No Markdown, no HTML.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from .answer import Answer, Citation, Referral

SOURCE_SEPARATOR = " \u203a "


def source_label(citation: Citation) -> str:
    """Where a citation comes from, as people read it: "Section › Item" (the item only when there is one)."""
    return citation.section + (f"{SOURCE_SEPARATOR}{citation.title}" if citation.title else "")


def wrap(text: str, width: int | None) -> str:
    """Markdown bold removed; paragraphs wrapped and bullets given a hanging indent when `width` is set."""
    lines = []
    for line in text.replace("**", "").split("\n"):
        if width is None or not line.strip():
            lines.append(line if line.strip() else "")
        elif line.startswith("- "):
            lines.append(textwrap.fill(line, width=width, subsequent_indent="  "))
        else:
            lines.append(textwrap.fill(line, width=width))
    return "\n".join(lines)


def quoted_text(citation: Citation) -> str:
    """The sentences the answer repeats, in chunk order; "…" where the chunk has text between them."""
    found = sorted((citation.text.find(q), q) for q in citation.quotes if q in citation.text)
    out, end = "", None
    for start, quote in found:
        if end is not None:
            out += " " if not citation.text[end:start].strip() else " \u2026 "
        out += quote
        end = start + len(quote)
    return out or " \u2026 ".join(citation.quotes)


def source_lines(answer: Answer, *, width: int | None = None, whole_chunk: bool = False) -> list[str]:
    """ "Sources:" then, per citation, "[n] Section › Item" and the quoted text, indented.

    The quoted text is the sentences the answer repeats; `whole_chunk` shows the
    chunk they come from instead (the terminal has room for the context).
    """
    if not answer.citations:
        return []
    lines = ["Sources:"]
    for c in answer.citations:
        quoted = c.text if whole_chunk or not c.quotes else quoted_text(c)
        body = f"\u201c{quoted}\u201d"
        lines.append(f"[{c.marker}] {source_label(c)}" + (f"  ({c.chunk_id})" if whole_chunk else ""))
        lines.append(textwrap.indent(textwrap.fill(body, width=width - 4) if width else body, "    "))
    return lines


def answer_text(
    answer: Answer,
    *,
    width: int | None = None,
    whole_chunk: bool = False,
    referral: Callable[[Referral], str] = lambda r: r.text,
) -> str:
    """The whole answer as plain text: referral (as `referral` formats it), notice, text, sources."""
    parts: list[str] = []
    if answer.referral:
        parts += [referral(answer.referral), ""]
    if answer.notice:
        parts += [f"({answer.notice})", ""]
    parts.append(wrap(answer.text, width))
    sources = source_lines(answer, width=width, whole_chunk=whole_chunk)
    if sources:
        parts += ["", *sources]
    return "\n".join(parts)
