"""Reading an index: the per-question nearest-chunk query, and the tables the assistant holds in memory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from .client import IndexUnavailableError, read_all


@dataclass(frozen=True)
class SentenceTable:
    """Answerable sentences of every chunk, with their unit vectors, in memory."""

    texts: list[str]
    chunk_ids: list[str]
    spans: list[tuple[int, int]]
    vectors: np.ndarray
    rows_by_chunk: dict[str, list[int]]


@dataclass(frozen=True)
class ChunkVectors:
    """Every chunk's unit vector, in memory: what dense search runs on between checks of the index, and
    alone while the index is away (``Ranker.dense_scores``)."""

    ids: list[str]
    vectors: np.ndarray

    def nearest(self, vector: np.ndarray, k: int, sims: np.ndarray | None = None) -> dict[str, float]:
        """Cosine similarity of the k chunks nearest to a unit vector, by chunk id (exact, as Chroma's search);
        `sims`: the vector's cosines with every chunk, when the caller has them."""
        if not self.ids:
            return {}
        if sims is None:
            sims = self.vectors @ vector
        k = min(k, len(self.ids))
        top = np.argpartition(-sims, k - 1)[:k]
        return {self.ids[i]: float(sims[i]) for i in top[np.argsort(-sims[top])]}


class Reader:
    """Reads the two collections of one index through one client."""

    def __init__(self, client: ClientAPI, chunk_collection: str, sentence_collection: str) -> None:
        self.client = client
        self.chunk_collection = chunk_collection
        self.sentence_collection = sentence_collection
        self._chunks: Collection | None = None  # the chunk collection handle for nearest(), opened on first use

    def nearest(self, vector: np.ndarray, k: int) -> dict[str, float]:
        """Cosine similarity of the k chunks nearest to a unit vector, by chunk id.

        The hot path of every question. It asks Chroma for ids and distances
        only (the texts are already in memory), which takes half the time of
        LangChain's wrapper, since that always fetches documents and metadata.
        """
        if self._chunks is None:
            self._chunks = self.client.get_collection(self.chunk_collection)
        got = self._chunks.query(query_embeddings=[vector], n_results=k, include=["distances"])
        distances = got["distances"] or [[]]
        return {chunk_id: 1.0 - distance for chunk_id, distance in zip(got["ids"][0], distances[0], strict=True)}

    def vectorstore(self, embeddings: Embeddings) -> Chroma:
        """The chunk collection as a LangChain vector store."""
        return Chroma(
            client=self.client,
            collection_name=self.chunk_collection,
            embedding_function=embeddings,
            create_collection_if_not_exists=False,
        )

    def read_chunks(self) -> tuple[list[Document], ChunkVectors]:
        """Every chunk as a LangChain Document (exact source text, metadata incl. chunk_id) in the article's
        order, and the chunks' vectors (read a page at a time, ``read_all``)."""
        got = read_all(self.client.get_collection(self.chunk_collection), ["documents", "metadatas", "embeddings"])
        ids, texts, metas = got["ids"], got["documents"], got["metadatas"]
        docs = [Document(page_content=t, metadata=dict(m), id=i) for i, t, m in zip(ids, texts, metas, strict=True)]
        vectors = np.asarray(got["embeddings"], dtype=np.float32) if ids else np.zeros((0, 1), np.float32)
        ordered = sorted(docs, key=lambda d: (d.metadata["source"], d.metadata["start"]))
        return ordered, ChunkVectors(ids=list(ids), vectors=vectors)

    def sentence_table(self, chunks: list[Document]) -> SentenceTable:
        """Every sentence row with its vector, in chunk id and position order. A sentence's text is its chunk's
        text between its start and end (offsets in the source file, as the chunk's own): the rows store no text."""
        got = read_all(self.client.get_collection(self.sentence_collection), ["metadatas", "embeddings"])
        by_id = {str(d.metadata["chunk_id"]): d for d in chunks}
        keys = []
        for row_id in got["ids"]:
            chunk_id, _, position = str(row_id).rpartition("#s")
            if chunk_id not in by_id or not position.isdigit():
                raise IndexUnavailableError(
                    f"The index holds a sentence row {row_id!r} of no chunk it holds; "
                    "rebuild it with `hip-assistant index --rebuild`."
                )
            keys.append((chunk_id, int(position)))
        order = sorted(range(len(keys)), key=keys.__getitem__)
        rows_by_chunk: dict[str, list[int]] = {}
        texts, spans = [], []
        for row, i in enumerate(order):
            chunk_id = keys[i][0]
            rows_by_chunk.setdefault(chunk_id, []).append(row)
            meta, chunk = got["metadatas"][i], by_id[chunk_id]
            start, end, offset = _int(meta["start"]), _int(meta["end"]), _int(chunk.metadata["start"])
            texts.append(chunk.page_content[start - offset : end - offset])
            spans.append((start, end))
        vectors = np.asarray(got["embeddings"], dtype=np.float32)[order] if order else np.zeros((0, 1), np.float32)
        return SentenceTable(
            texts=texts,
            chunk_ids=[keys[i][0] for i in order],
            spans=spans,
            vectors=vectors,
            rows_by_chunk=rows_by_chunk,
        )


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise IndexUnavailableError(
            f"The index metadata holds {value!r} where a number belongs; "
            "rebuild it with `hip-assistant index --rebuild`."
        )
    return value
