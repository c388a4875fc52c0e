"""One index as the assistant holds it: opened, checked against the corpus, repaired, then read."""

from __future__ import annotations

import logging
import shutil

import chromadb
import numpy as np
from filelock import FileLock
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from ..corpus import CHUNKING_VERSION, corpus_hash
from ..embeddings import model_id
from ..settings import Settings
from .builder import LAYOUT, Builder, ProgressFactory
from .client import forget_local_client, make_client
from .manifest import Manifest
from .reader import ChunkVectors, Reader, SentenceTable

log = logging.getLogger(__package__)  # "assistant.store", as before the module became a package


class Index:
    """Opens and checks the Chroma collections of one corpus, repairs them, and hands out a builder and a reader."""

    def __init__(self, settings: Settings, embeddings: Embeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.chunk_collection = settings.collection
        self.sentence_collection = f"{settings.collection}_sentences"
        if settings.chroma_host:
            self._connect()
            self.client.list_collections()
            return
        # Checked and opened under the build lock: a second process starting at the same moment would otherwise
        # read the database file while the first is still creating it, take it for corrupted and delete it.
        with self._lock():
            problem = self.local_problem()
            if problem and problem != "is gone":
                log.warning("The index at %s %s; removing it so it can be rebuilt", self.location, problem)
                self._wipe()
            try:
                self._connect()
                self.client.list_collections()  # a damaged database fails here, not on the first question
            except Exception as exc:
                log.warning(
                    "The index at %s cannot be opened (%s: %s); removing it so it can be rebuilt",
                    self.location,
                    type(exc).__name__,
                    exc,
                )
                self._wipe()
                self._connect()

    def _connect(self) -> None:
        """A new client, and the reader and builder that use it."""
        self.client = make_client(self.settings)
        self.reader = Reader(self.client, self.chunk_collection, self.sentence_collection)
        self.builder = Builder(
            self.client, self.settings, self.embeddings, self.chunk_collection, self.sentence_collection
        )

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
            layout=LAYOUT,
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
            self._connect()
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
        if not self.settings.chroma_host:
            forget_local_client(self.settings.index_dir)

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
        """Embed every chunk and sentence and write them (``Builder.build``)."""
        return self.builder.build(
            self.wanted(), self.manifest(), progress=progress, force=force, location=self.location
        )

    def nearest(self, vector: np.ndarray, k: int) -> dict[str, float]:
        """Cosine similarity of the k chunks nearest to a unit vector, by chunk id (``Reader.nearest``)."""
        return self.reader.nearest(vector, k)

    def vectorstore(self) -> Chroma:
        """The chunk collection as a LangChain vector store."""
        return self.reader.vectorstore(self.embeddings)

    def read_chunks(self) -> tuple[list[Document], ChunkVectors]:
        """Every chunk in the article's order, and the chunks' vectors (``Reader.read_chunks``)."""
        return self.reader.read_chunks()

    def sentence_table(self, chunks: list[Document]) -> SentenceTable:
        """Every chunk's answerable sentences with their vectors (``Reader.sentence_table``); `chunks` from
        ``read_chunks``."""
        return self.reader.sentence_table(chunks)
