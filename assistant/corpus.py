"""Parse the corpus along its structure and cut it into citable chunks.

The article is plain text with a title, an introduction, headed sections,
numbered items (``1. Title: body``), FAQ pairs (``Q: ... A: ...``) and a
conclusion. Markdown files (``#`` headings, ``1.`` lists) parse the same way.
Every chunk keeps the exact character span it came from, so a citation can
always be traced back to the source file, and its id is built from the
structure (``doc/section/item``) so re-indexing gives the same ids.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from . import nlp

CHUNKING_VERSION = "5"
"""Bump when parsing or chunking changes: the index manifest then goes stale."""

CORPUS_SUFFIXES = (".txt", ".md")

_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NUMBERED = re.compile(r"^(\d{1,3})[.)]\s+")
_BULLET = re.compile(r"^[-*\u2022]\s+")
_QUESTION = re.compile(r"^(?:Q|Question)\s*[:.]\s*", re.IGNORECASE)
_ANSWER = re.compile(r"(?:^|\s)(?:A|Answer)\s*:\s*", re.IGNORECASE)
_CONCLUSION = re.compile(r"^(?:in conclusion|in summary|to sum up|to conclude|overall,)", re.IGNORECASE)
_HEADING_END = (".", "!", "?", ":", ";", ",")
INTRODUCTION = "Introduction"
CONCLUSION = "Conclusion"

Role = Literal["content", "framing"]


def contextualize(section: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its heading gives it context."""
    return f"{section}: {text}"


@dataclass(frozen=True)
class Chunk:
    """One citable unit: a numbered item, a FAQ pair or a paragraph."""

    id: str
    source: str
    section: str
    kind: str
    title: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    """Absolute spans of the sentences an answer may quote (item bodies, FAQ answers)."""
    role: Role = "content"
    """'framing' for text that only frames the article (introduction, a list's lead-in, conclusion)."""

    def metadata(self) -> dict[str, str | int]:
        return {
            "chunk_id": self.id,
            "source": self.source,
            "section": self.section,
            "kind": self.kind,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "role": self.role,
        }


@dataclass(frozen=True)
class Document:
    """A parsed corpus file: its title and its chunks in reading order."""

    slug: str
    source: str
    title: str
    text: str
    chunks: tuple[Chunk, ...]

    @property
    def sections(self) -> list[str]:
        return list(dict.fromkeys(c.section for c in self.chunks))


@dataclass
class _Block:
    text: str
    start: int
    end: int


def _trimmed(text: str, s: int, e: int) -> _Block | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return _Block(text[s:e], s, e) if e > s else None


def _starts_unit(line: str) -> bool:
    """A line that opens a new unit even without a blank line before it."""
    line = line.lstrip()
    return bool(_NUMBERED.match(line) or _BULLET.match(line) or _QUESTION.match(line) or _MD_HEADING.match(line))


def _blocks(text: str) -> list[_Block]:
    """Blank-line separated blocks with their spans, surrounding space trimmed.

    A tight list (items on consecutive lines) is split so each item, FAQ
    question or heading becomes a block of its own.
    """
    blocks: list[_Block] = []
    cursor = 0
    for match in [*_BLOCK_SPLIT.finditer(text), None]:
        stop = match.start() if match else len(text)
        piece_start = cursor
        offset = cursor
        for line in text[cursor:stop].split("\n"):
            if offset > piece_start and _starts_unit(line):
                if block := _trimmed(text, piece_start, offset - 1):
                    blocks.append(block)
                piece_start = offset
            offset += len(line) + 1
        if block := _trimmed(text, piece_start, stop):
            blocks.append(block)
        cursor = match.end() if match else len(text)
    return blocks


def _is_plain_heading(block: _Block, following: _Block | None) -> bool:
    line = block.text
    return (
        following is not None
        and "\n" not in line
        and len(line) <= 120
        and len(line.split()) <= 14
        and not line.endswith(_HEADING_END)
        and not _NUMBERED.match(line)
        and not _BULLET.match(line)
        and not _QUESTION.match(line)
    )


def _split_title(body: str) -> tuple[str, int]:
    """Title of a numbered item (text before the colon) and where its body starts."""
    colon = body.find(":")
    if 0 < colon <= 100:
        rest = colon + 1
        while rest < len(body) and body[rest] == " ":
            rest += 1
        return body[:colon].strip(), rest
    return " ".join(body.split()[:8]), 0


class _Builder:
    """Accumulates chunks while walking the blocks of one file."""

    def __init__(self, source: str, slug: str, text: str, title_words: frozenset[str]):
        self.source, self.slug, self.text = source, slug, text
        self.title_words = title_words
        self.chunks: list[Chunk] = []
        self.ids: set[str] = set()
        self.section = INTRODUCTION
        self.section_slug = "introduction"
        self.counters: dict[str, int] = {}

    def start_section(self, heading: str) -> None:
        self.section = heading
        drop = nlp.STOPWORDS | self.title_words
        self.section_slug = nlp.slugify(heading, drop=drop, max_words=3) or nlp.slugify(heading, max_words=3)
        self.counters = {}

    def _unique(self, local: str) -> str:
        base = f"{self.slug}/{self.section_slug}/{local}"
        cid, n = base, 2
        while cid in self.ids:
            cid, n = f"{base}-{n}", n + 1
        self.ids.add(cid)
        return cid

    def count(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def add(self, kind: str, title: str, local: str, start: int, end: int, body_start: int) -> None:
        self.chunks.append(
            Chunk(
                id=self._unique(local),
                source=self.source,
                section=self.section,
                kind=kind,
                title=title,
                text=self.text[start:end],
                start=start,
                end=end,
                sentences=tuple(nlp.sentence_spans(self.text, body_start, end)),
            )
        )

    def paragraph(self, block: _Block) -> None:
        n = self.count("p")
        self.add("paragraph", "", f"p{n}", block.start, block.end, block.start)

    def item(self, block: _Block, number: str, marker_len: int) -> None:
        start = block.start + marker_len
        body = self.text[start : block.end]
        title, body_offset = _split_title(body)
        local = f"{number}-{nlp.slugify(title, max_words=6) or 'item'}"
        self.add("item", title, local, start, block.end, start + body_offset)

    def faq(self, start: int, end: int) -> None:
        pair = self.text[start:end]
        q = _QUESTION.match(pair)
        a = _ANSWER.search(pair, q.end() if q else 0)
        question = pair[q.end() if q else 0 : a.start() if a else len(pair)].strip()
        n = self.count("q")
        local = f"q{n}-{nlp.slugify(question, drop=nlp.STOPWORDS, max_words=5) or 'question'}"
        body_start = start + (a.end() if a else 0)
        self.add("faq", question, local, start, end, body_start)


def parse_text(text: str, source: str, *, slug_source: str | None = None) -> Document:
    """Parse one corpus file's text into a Document of chunks."""
    slug = nlp.slugify(slug_source or Path(source).stem, max_words=12) or "document"
    blocks = _blocks(text)
    title = ""
    if blocks:
        first = blocks[0]
        heading = _MD_HEADING.match(first.text)
        if heading or ("\n" not in first.text and not first.text.endswith((".", "!", "?"))):
            title = heading.group(2) if heading else first.text
            blocks = blocks[1:]
            # Some exports repeat the title line; it is not content.
            while blocks and blocks[0].text.lstrip("# ").strip() == title:
                blocks = blocks[1:]
    builder = _Builder(source, slug, text, frozenset(nlp.content_words(title)))

    i = 0
    while i < len(blocks):
        block = blocks[i]
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        heading = _MD_HEADING.match(block.text)
        numbered = _NUMBERED.match(block.text)
        if heading:
            builder.start_section(heading.group(2))
        elif numbered:
            builder.item(block, numbered.group(1), numbered.end())
        elif bullet := _BULLET.match(block.text):
            builder.item(block, str(builder.count("bullet")), bullet.end())
        elif _QUESTION.match(block.text):
            end = block.end
            # An answer may sit in the next block ("Q: ...\n\nA: ...").
            if not _ANSWER.search(block.text) and following and _ANSWER.match(following.text):
                end = following.end
                i += 1
            builder.faq(block.start, end)
        elif _is_plain_heading(block, following):
            builder.start_section(block.text)
        else:
            if _CONCLUSION.match(block.text) and builder.section != CONCLUSION:
                builder.start_section(CONCLUSION)
            builder.paragraph(block)
        i += 1
    return Document(slug=slug, source=source, title=title, text=text, chunks=_with_roles(builder.chunks))


def _with_roles(chunks: list[Chunk]) -> tuple[Chunk, ...]:
    """Mark the paragraphs that only frame: the introduction, the conclusion, and the
    lead-in of a section whose substance is its numbered items or FAQ pairs.

    Read from the structure, not from the words, so another article gets the same rule.
    """
    listed = {c.section for c in chunks if c.kind in ("item", "faq")}
    return tuple(
        replace(c, role="framing")
        if c.kind == "paragraph" and (c.section in (INTRODUCTION, CONCLUSION) or c.section in listed)
        else c
        for c in chunks
    )


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files that make up the corpus, in a stable order."""
    return sorted(p for p in Path(corpus_dir).iterdir() if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES)


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Parse every ``.txt``/``.md`` file in the corpus folder, one Document each."""
    files = corpus_files(corpus_dir)
    if not files:
        raise FileNotFoundError(f"No .txt or .md files in the corpus folder {corpus_dir}")
    stems = [p.stem for p in files]
    # guide.txt and guide.md would both be "guide": the extension keeps their chunk ids apart.
    return [
        parse_text(p.read_text(encoding="utf-8"), p.name, slug_source=p.name if stems.count(p.stem) > 1 else p.stem)
        for p in files
    ]


def corpus_hash(corpus_dir: Path) -> str:
    """A digest of file names and bytes: the index is stale when it changes."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
