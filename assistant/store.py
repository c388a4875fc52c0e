"""The Chroma index of the corpus: chunk vectors and sentence vectors.

Two collections live side by side: ``<name>`` holds one vector per chunk for
dense retrieval (queried through langchain-chroma), ``<name>_sentences`` one
vector per answerable sentence so the extractive composer never has to embed
anything but the question. The chunk collection's metadata is the manifest:
corpus hash, model and chunking version. When any of them differs from what
is on disk now, the index is stale and is brought up to date.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from filelock import FileLock
from langchain_chroma import Chroma
from langchain_core.documents import Document

from .corpus import CHUNKING_VERSION, Chunk, contextualize, corpus_hash, load_corpus
from .embeddings import embed_texts, model_id
from .errors import HipAssistantError
from .settings import Settings

log = logging.getLogger(__name__)

BATCH = 1024
"""Rows embedded and written together: large enough that the embedder can group texts of similar length
(little padding), small enough for Chroma's batch limit and a progress bar that moves."""
ProgressFactory = Callable[[int, str], object]
"""Makes a progress bar: (total, description) -> object with update(n) and close()."""


class IndexUnavailableError(HipAssistantError, RuntimeError):
    """The index cannot be reached or opened; the message says where and what to do."""


@dataclass(frozen=True)
class Manifest:
    """What an index was built from. Stored as the chunk collection's metadata."""

    corpus_hash: str
    model: str
    chunking_version: str
    chunks: int = 0
    sentences: int = 0
    complete: bool = False

    def stale_reasons(self, wanted: Manifest) -> list[str]:
        reasons = [
            f"{name} changed"
            for name in ("corpus_hash", "model", "chunking_version")
            if getattr(self, name) != getattr(wanted, name)
        ]
        if not self.complete:
            reasons.append("the last build did not finish")
        return reasons

    def to_metadata(self) -> dict[str, str | int | bool]:
        return {f"manifest_{k}": v for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> Manifest | None:
        metadata = metadata or {}
        values = {f.name: metadata.get(f"manifest_{f.name}") for f in fields(cls)}
        if any(values[k] is None for k in ("corpus_hash", "model", "chunking_version")):
            return None
        return cls(**{k: v for k, v in values.items() if v is not None})


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
    """Every chunk's unit vector, in memory: what dense search falls back on while the index is away."""

    ids: list[str]
    vectors: np.ndarray

    def nearest(self, vector: np.ndarray, k: int) -> dict[str, float]:
        """Cosine similarity of the k chunks nearest to a unit vector, by chunk id (exact, as Chroma's search)."""
        if not self.ids:
            return {}
        sims = self.vectors @ vector
        k = min(k, len(self.ids))
        top = np.argpartition(-sims, k - 1)[:k]
        return {self.ids[i]: float(sims[i]) for i in top[np.argsort(-sims[top])]}


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """An HTTP client when a Chroma server is configured, else an embedded persistent one."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            raise IndexUnavailableError(
                f"Cannot reach the Chroma server at {where} ({type(exc).__name__}: {exc}). "
                f"Start one with `chroma run --host {settings.chroma_host} --port {settings.chroma_port} "
                "--path <folder>`, "
                "or unset HIP_CHROMA_HOST to use the local index."
            ) from None
        return client
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sentence_embed_text(chunk: Chunk, span: tuple[int, int], source_text: str) -> str:
    """A sentence is embedded with its item title so it keeps its topic."""
    sentence = source_text[span[0] : span[1]]
    return f"{chunk.title}: {sentence}" if chunk.title else sentence


class Index:
    """Opens, checks, builds and reads the Chroma collections of one corpus."""

    def __init__(self, settings: Settings, embeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.chunk_collection = settings.collection
        self.sentence_collection = f"{settings.collection}_sentences"
        self._chunks = None  # the chunk collection handle for nearest(), opened on first use
        problem = self.local_problem()
        if problem and problem != "is gone":
            log.warning("The index at %s %s; removing it so it can be rebuilt", self.location, problem)
            with self._lock():
                if self.local_problem() not in (None, "is gone"):
                    self._wipe()
        try:
            self.client = make_client(settings)
            self.client.list_collections()  # a damaged database fails here, not on the first question
        except IndexUnavailableError:
            raise
        except Exception as exc:
            if settings.chroma_host:
                raise
            log.warning(
                "The index at %s cannot be opened (%s: %s); removing it so it can be rebuilt",
                self.location,
                type(exc).__name__,
                exc,
            )
            with self._lock():
                self._wipe()
            self.client = make_client(settings)

    @property
    def location(self) -> str:
        if self.settings.chroma_host:
            return f"chroma://{self.settings.chroma_host}:{self.settings.chroma_port}/{self.chunk_collection}"
        return str(self.settings.index_dir)

    def wanted(self) -> Manifest:
        return Manifest(
            corpus_hash=corpus_hash(self.settings.corpus_dir),
            model=model_id(self.settings.embedding_model),
            chunking_version=CHUNKING_VERSION,
        )

    def manifest(self) -> Manifest | None:
        """The manifest of the index as built, or None when there is none."""
        try:
            collection = self.client.get_collection(self.chunk_collection)
        except chromadb.errors.NotFoundError:
            return None
        return Manifest.from_metadata(collection.metadata)

    def stale_reasons(self) -> list[str]:
        """Why the index must be (re)built; empty when it is up to date."""
        current = self.manifest()
        if current is None:
            return ["no index yet"]
        reasons = current.stale_reasons(self.wanted())
        if not reasons and self.client.get_collection(self.chunk_collection).count() != current.chunks:
            reasons.append("chunk count differs from the manifest")
        if not reasons and self._count(self.sentence_collection) != current.sentences:
            reasons.append("sentence count differs from the manifest")
        return reasons

    def local_problem(self) -> str | None:
        """What is wrong with a local index on disk ('is gone', 'is corrupted'), or None.

        Cheap enough to run often: one small read. A Chroma server is not checked here.
        """
        if self.settings.chroma_host:
            return None
        try:
            with open(self.settings.index_dir / "chroma.sqlite3", "rb") as fh:
                header = fh.read(16)
        except FileNotFoundError:
            return "is gone"
        except OSError as exc:
            return f"cannot be read ({exc})"
        return None if header == b"SQLite format 3\x00" else "is corrupted"

    def heal(self, reason: str, *, wipe: bool, quiet: bool = False) -> None:
        """Reopen the index, wiping and rebuilding it if needed.

        Another process may have repaired it already: under the lock the state is
        checked again, and only what is still broken is rebuilt. ``quiet`` logs
        the attempt at debug level (reconnect attempts during a known outage).
        """
        log.log(
            logging.DEBUG if quiet else logging.WARNING,
            "The index at %s %s; reopening it, and rebuilding what is missing",
            self.location,
            reason,
        )
        with self._lock():
            if not self.settings.chroma_host and (wipe or self.local_problem()):
                self._wipe()
            self._forget_client()
            self.client = make_client(self.settings)
            self._chunks = None
            reasons = self.stale_reasons()
            if reasons:
                self.build()
        log.warning("The index at %s is back (%s)", self.location, "; ".join(reasons) or "reopened")

    def _wipe(self) -> None:
        """Delete the local index files (not the lock, not the folder's README)."""
        self._forget_client()
        for entry in self.settings.index_dir.iterdir():
            if entry.name in (".build.lock", "README.md"):
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _forget_client(self) -> None:
        """Drop Chroma's per-process cache of this path, so the next client reads the disk again.

        chromadb's public ``Client.close()`` is not enough here: it only releases one reference (the
        system stays cached while another client holds the path) and fails on a client whose database
        was damaged ("no attribute 'bindings'"), which is when this runs. Tested in test_faults.
        """
        if not self.settings.chroma_host:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(self.settings.index_dir), None)

    def _count(self, name: str) -> int:
        try:
            return self.client.get_collection(name).count()
        except chromadb.errors.NotFoundError:
            return -1

    def _lock(self) -> FileLock:
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.settings.index_dir / ".build.lock"))

    def ensure(self, *, rebuild: bool = False, progress: ProgressFactory | None = None) -> Manifest:
        """Bring the index up to date; only one process builds at a time."""
        with self._lock():
            reasons = ["rebuild requested"] if rebuild else self.stale_reasons()
            if reasons:
                log.info("Building the index at %s: %s", self.location, "; ".join(reasons))
                return self.build(progress=progress, force=rebuild)
            manifest = self.manifest()
            assert manifest is not None
            return manifest

    def build(self, *, progress: ProgressFactory | None = None, force: bool = False) -> Manifest:
        """Embed every chunk and sentence and write them; ids are stable, so this is idempotent."""
        documents = load_corpus(self.settings.corpus_dir)
        chunks = [c for d in documents for c in d.chunks]
        texts_by_source = {d.source: d.text for d in documents}
        sentence_rows = [(chunk, position, span) for chunk in chunks for position, span in enumerate(chunk.sentences)]
        wanted = self.wanted()
        manifest = Manifest(
            corpus_hash=wanted.corpus_hash,
            model=wanted.model,
            chunking_version=wanted.chunking_version,
            chunks=len(chunks),
            sentences=len(sentence_rows),
        )
        current = self.manifest()
        # Upserts keep the collections (and the handles live Assistants hold); only a
        # different model, whose vectors may not even have the same size, needs new ones.
        if current is not None and current.model != manifest.model:
            self._drop()

        chunk_col = self._collection(self.chunk_collection, manifest)
        written = self._write(
            chunk_col,
            ids=[c.id for c in chunks],
            embed=[contextualize(c.section, c.text) for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
            progress=progress,
            label="Embedding chunks",
            force=force,
        )
        sentence_col = self._collection(self.sentence_collection, None)
        written += self._write(
            sentence_col,
            ids=[f"{chunk.id}#s{position + 1}" for chunk, position, _ in sentence_rows],
            embed=[sentence_embed_text(chunk, span, texts_by_source[chunk.source]) for chunk, _, span in sentence_rows],
            documents=[texts_by_source[chunk.source][span[0] : span[1]] for chunk, _, span in sentence_rows],
            metadatas=[
                {"chunk_id": chunk.id, "position": position, "start": span[0], "end": span[1]}
                for chunk, position, span in sentence_rows
            ],
            progress=progress,
            label="Embedding sentences",
            force=force,
        )
        # Marked complete last: an interrupted build is seen as stale next time.
        done = replace(manifest, complete=True)
        chunk_col.modify(metadata=done.to_metadata())
        log.info(
            "Index ready at %s: %d chunks, %d sentences (%d rows embedded)",
            self.location,
            done.chunks,
            done.sentences,
            written,
        )
        return done

    def _drop(self) -> None:
        for name in (self.chunk_collection, self.sentence_collection):
            with contextlib.suppress(chromadb.errors.NotFoundError):
                self.client.delete_collection(name)

    def _collection(self, name: str, manifest: Manifest | None):
        return self.client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=manifest.to_metadata() if manifest else None,
            embedding_function=None,
        )

    def _write(self, collection, *, ids, embed, documents, metadatas, progress, label, force) -> int:
        """Write the rows that are new or changed (every row when `force`), then delete rows whose ids are gone.

        A row's metadata carries a digest of the text it was embedded from, so a
        changed heading or title re-embeds it too. Unchanged rows are left alone:
        re-indexing an unchanged corpus writes nothing, and an edit touches only
        the chunks it changed (rewriting every vector churned the HNSW graph).
        """
        metadatas = [{**m, "embedded": _digest(e)} for m, e in zip(metadatas, embed, strict=True)]
        have: dict = {}
        if not force:
            got = collection.get(include=["documents", "metadatas"])
            have = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        todo = [k for k, row_id in enumerate(ids) if force or have.get(row_id) != (documents[k], metadatas[k])]
        bar = progress(len(todo), label) if progress else None
        for i in range(0, len(todo), BATCH):
            batch = todo[i : i + BATCH]
            collection.upsert(
                ids=[ids[k] for k in batch],
                embeddings=embed_texts(self.embeddings, [embed[k] for k in batch]),
                documents=[documents[k] for k in batch],
                metadatas=[metadatas[k] for k in batch],
            )
            if bar:
                bar.update(len(batch))
        if bar:
            bar.close()
        wanted = set(ids)
        stale = [i for i in collection.get(include=[])["ids"] if i not in wanted]
        if stale:
            collection.delete(ids=stale)
        return len(todo)

    def nearest(self, vector: np.ndarray, k: int) -> dict[str, float]:
        """Cosine similarity of the k chunks nearest to a unit vector, by chunk id.

        The hot path of every question. It asks Chroma for ids and distances
        only (the texts are already in memory), which takes half the time of
        LangChain's wrapper, since that always fetches documents and metadata.
        """
        if self._chunks is None:
            self._chunks = self.client.get_collection(self.chunk_collection)
        got = self._chunks.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return {chunk_id: 1.0 - distance for chunk_id, distance in zip(got["ids"][0], got["distances"][0], strict=True)}

    def vectorstore(self) -> Chroma:
        """The chunk collection as a LangChain vector store."""
        return Chroma(
            client=self.client,
            collection_name=self.chunk_collection,
            embedding_function=self.embeddings,
            create_collection_if_not_exists=False,
        )

    def read_chunks(self) -> tuple[list[Document], ChunkVectors]:
        """Every chunk as a LangChain Document (exact source text, metadata incl. chunk_id) in the article's
        order, and the chunks' vectors, in one read."""
        got = self.client.get_collection(self.chunk_collection).get(include=["documents", "metadatas", "embeddings"])
        docs = [
            Document(page_content=t, metadata=m, id=i)
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        vectors = np.asarray(got["embeddings"], dtype=np.float32) if got["ids"] else np.zeros((0, 1), np.float32)
        ordered = sorted(docs, key=lambda d: (d.metadata["source"], d.metadata["start"]))
        return ordered, ChunkVectors(ids=list(got["ids"]), vectors=vectors)

    def sentence_table(self) -> SentenceTable:
        got = self.client.get_collection(self.sentence_collection).get(include=["documents", "metadatas", "embeddings"])
        order = sorted(
            range(len(got["ids"])), key=lambda i: (got["metadatas"][i]["chunk_id"], got["metadatas"][i]["position"])
        )
        metas = [got["metadatas"][i] for i in order]
        rows_by_chunk: dict[str, list[int]] = {}
        for row, meta in enumerate(metas):
            rows_by_chunk.setdefault(meta["chunk_id"], []).append(row)
        vectors = np.asarray(got["embeddings"], dtype=np.float32)[order] if order else np.zeros((0, 1), np.float32)
        return SentenceTable(
            texts=[got["documents"][i] for i in order],
            chunk_ids=[m["chunk_id"] for m in metas],
            spans=[(m["start"], m["end"]) for m in metas],
            vectors=vectors,
            rows_by_chunk=rows_by_chunk,
        )
