"""Building an index: embed every chunk and sentence of the corpus and write what changed."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from ..corpus import Chunk, Document, contextualize, load_corpus
from ..embeddings import embed_texts
from ..settings import Settings
from .client import read_all
from .manifest import Manifest

log = logging.getLogger(__package__)  # "assistant.store", as before the module became a package

BATCH = 1024
"""Rows embedded and written together: large enough that the embedder can group texts of similar length
(little padding), small enough for Chroma's batch limit and a progress bar that moves."""


class Progress(Protocol):
    def update(self, n: int) -> object: ...

    def close(self) -> object: ...


ProgressFactory = Callable[[int, str], Progress]
"""Makes a progress bar: (total, description) -> object with update(n) and close()."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


LAYOUT = "2"
"""How rows are stored. 2: a sentence row holds no text of its own (it is its chunk's text between its start and
end, ``Reader.sentence_table``) and no metadata its id already says (chunk id and position): writing documents
and metadata keys was more than a third of Chroma's write time (2.9 s -> 1.8 s at 2,000 chunks)."""


def sentence_embed_text(chunk: Chunk, span: tuple[int, int], source_text: str) -> str:
    """A sentence is embedded with its item title so it keeps its topic."""
    sentence = source_text[span[0] : span[1]]
    return f"{chunk.title}: {sentence}" if chunk.title else sentence


def sentence_id(chunk_id: str, position: int) -> str:
    """A sentence row's id: its chunk's id and its position there, from 1 (``chunk#s1``)."""
    return f"{chunk_id}#s{position + 1}"


@dataclass(frozen=True)
class Rows:
    """What one collection holds: ids, the texts embedded, the documents stored (None: none) and metadata."""

    ids: list[str]
    embed: list[str]
    documents: list[str] | None
    metadatas: list[dict[str, Any]]


def rows_of(documents: Sequence[Document]) -> tuple[Rows, Rows]:
    """The chunk rows and the sentence rows of a corpus, as the index stores them."""
    chunks = [c for d in documents for c in d.chunks]
    source_text = {d.source: d.text for d in documents}
    sentences = [(chunk, position, span) for chunk in chunks for position, span in enumerate(chunk.sentences)]
    return (
        Rows(
            ids=[c.id for c in chunks],
            embed=[contextualize(c.section, c.text) for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[dict(c.metadata()) for c in chunks],
        ),
        Rows(
            ids=[sentence_id(chunk.id, position) for chunk, position, _ in sentences],
            embed=[sentence_embed_text(chunk, span, source_text[chunk.source]) for chunk, _, span in sentences],
            documents=None,
            metadatas=[{"start": span[0], "end": span[1]} for _, _, span in sentences],
        ),
    )


class Builder:
    """Writes the chunk and sentence collections of one index; ids are stable, so a build is idempotent."""

    def __init__(
        self,
        client: ClientAPI,
        settings: Settings,
        embeddings: Embeddings,
        chunk_collection: str,
        sentence_collection: str,
    ) -> None:
        self.client = client
        self.settings = settings
        self.embeddings = embeddings
        self.chunk_collection = chunk_collection
        self.sentence_collection = sentence_collection

    def build(
        self,
        wanted: Manifest,
        current: Manifest | None,
        *,
        progress: ProgressFactory | None = None,
        force: bool = False,
        location: str = "",
    ) -> Manifest:
        """Embed every chunk and sentence and write them; `current` is the manifest on disk, if any."""
        documents = load_corpus(self.settings.corpus_dir)
        chunk_rows, sentence_rows = rows_of(documents)
        manifest = replace(wanted, chunks=len(chunk_rows.ids), sentences=len(sentence_rows.ids), complete=False)
        # Upserts keep the collections (and the handles live Assistants hold); only a
        # different model, whose vectors may not even have the same size, needs new ones.
        # So does another layout: rows written the old way would never compare equal to the new ones.
        if current is not None and (current.model, current.layout) != (manifest.model, manifest.layout):
            self.drop()

        chunk_col = self._collection(self.chunk_collection, manifest)
        written = self._write(chunk_col, chunk_rows, progress=progress, label="Embedding chunks", force=force)
        sentence_col = self._collection(self.sentence_collection, None)
        written += self._write(sentence_col, sentence_rows, progress=progress, label="Embedding sentences", force=force)
        # Marked complete last: an interrupted build is seen as stale next time.
        done = replace(manifest, complete=True)
        chunk_col.modify(metadata=done.to_metadata())
        log.info(
            "Index ready at %s: %d chunks, %d sentences (%d rows embedded)",
            location,
            done.chunks,
            done.sentences,
            written,
        )
        return done

    def drop(self) -> None:
        for name in (self.chunk_collection, self.sentence_collection):
            with contextlib.suppress(chromadb.errors.NotFoundError):
                self.client.delete_collection(name)

    def _collection(self, name: str, manifest: Manifest | None) -> Collection:
        return self.client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=manifest.to_metadata() if manifest else None,
            embedding_function=None,
        )

    def _write(
        self,
        collection: Collection,
        rows: Rows,
        *,
        progress: ProgressFactory | None,
        label: str,
        force: bool,
    ) -> int:
        """Write the rows that are new or changed (every row when `force`), then delete rows whose ids are gone.

        A row's metadata carries a digest of the text it was embedded from, so a
        changed heading or title re-embeds it too. Unchanged rows are left alone:
        re-indexing an unchanged corpus writes nothing, and an edit touches only
        the chunks it changed (rewriting every vector churned the HNSW graph).
        """
        ids, embed, documents = rows.ids, rows.embed, rows.documents
        metadatas = [{**m, "embedded": _digest(e)} for m, e in zip(rows.metadatas, embed, strict=True)]
        have: dict[str, tuple[Any, Any]] = {}
        if not force:
            got = read_all(collection, ["documents", "metadatas"] if documents is not None else ["metadatas"])
            held = got["documents"] if documents is not None else [None] * len(got["ids"])
            have = {i: (d, m) for i, d, m in zip(got["ids"], held, got["metadatas"], strict=True)}
        text = documents if documents is not None else [None] * len(ids)
        todo = [k for k, row_id in enumerate(ids) if force or have.get(row_id) != (text[k], metadatas[k])]
        bar = progress(len(todo), label) if progress else None
        for i in range(0, len(todo), BATCH):
            batch = todo[i : i + BATCH]
            collection.upsert(
                ids=[ids[k] for k in batch],
                embeddings=embed_texts(self.embeddings, [embed[k] for k in batch]),
                documents=[documents[k] for k in batch] if documents is not None else None,
                metadatas=[metadatas[k] for k in batch],
            )
            if bar:
                bar.update(len(batch))
        if bar:
            bar.close()
        wanted = set(ids)
        stale = [i for i in read_all(collection, [])["ids"] if i not in wanted]
        if stale:
            collection.delete(ids=stale)
        return len(todo)
