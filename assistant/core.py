"""``Assistant``: the one core every front door (API, CLI, page, eval) calls.

from assistant import Assistant
bot = Assistant()
ans = bot.ask("How long should I ice my hip?")
"""

from __future__ import annotations

import functools
import logging
import operator
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.runnables import Runnable
from threadpoolctl import threadpool_limits

from . import datafiles, nlp
from .answer import Answer
from .chain import Pipeline
from .classify import cached_vectors
from .compose import Composer, load_examples
from .embeddings import ModelMissingError, embeddings_for, model_path
from .generate import make_answerer
from .retrieval import HybridRetriever, Ranker
from .safety import SafetyLayer, criteria_from_documents
from .scope import RequestKinds, ScopeJudge
from .scope.terms import UNCOVERED_TERMS
from .settings import Settings, load_settings
from .spelling import Speller, english_words, model_words
from .store import ChunkVectors, Index

if TYPE_CHECKING:
    from .workers import Workers

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions about hip pain from running, grounded in the corpus.

    The index is built on first use and rebuilt when the corpus, the model or
    the chunking changes. Settings come from ``HIP_*`` environment variables;
    keyword arguments override them (``Assistant(retrieval="dense")``).
    """

    def __init__(self, settings: Settings | None = None, *, answerer: str | None = None, **overrides: object) -> None:
        if answerer is not None:
            overrides["answerer"] = answerer
        if settings is None:
            settings = load_settings(**overrides)
        elif overrides:
            settings = load_settings(**{**settings.model_dump(), **overrides})
        self.settings = settings
        if settings.blas_threads:
            threadpool_limits(settings.blas_threads, user_api="blas")
        self.embeddings = embeddings_for(settings)
        self.index = Index(settings, self.embeddings)
        self.manifest = self.index.ensure()
        documents, vectors = self.index.read_chunks()
        self.documents = {d.metadata["chunk_id"]: d for d in documents}
        self.sentences = self.index.sentence_table(documents)
        self.ranker = Ranker(
            settings,
            self.index,
            documents,
            heal=self._heal_after_error,
            memory=vectors,
            questions=passage_questions(self.embeddings, documents, settings),
        )
        self._checked_at = time.monotonic()
        self._heal_lock = threading.Lock()
        judge = ScopeJudge(
            self.ranker.vocabulary,
            self.sentences.vectors,
            min_similarity=settings.abstain_min_similarity,
            kinds=RequestKinds(self.embeddings, cache_dir=settings.models_dir, model_key=settings.embedding_model),
            sentence_rows=self.sentences.rows_by_chunk,
        )
        sections = list(dict.fromkeys(d.metadata["section"] for d in documents))
        answerer_impl = make_answerer(settings.answerer, settings, self.sentences, self.documents)
        self.safety = SafetyLayer(
            self.embeddings,
            criteria_from_documents(documents),
            cache_dir=settings.models_dir,
            model_key=settings.embedding_model,
        )
        self.composer = Composer(
            self.documents,
            self.embeddings,
            rank=self.ranker.rank_all,
            questions=self.ranker.questions,
            cache_dir=settings.models_dir,
            model_key=settings.embedding_model,
        )
        self.pipeline = Pipeline(
            settings,
            self.embeddings,
            self.ranker,
            judge,
            answerer_impl,
            self.safety,
            sections,
            self.composer,
            guard=self._check_index,
            speller=question_speller(settings, documents),
        )
        self.chain: Runnable[dict[str, Any] | str, Answer] = self.pipeline.runnable()
        self.workers: Workers | None = None
        """Processes that compute ``aask``/``astream`` answers for a server (``workers.use_workers``); None: here."""

    def _check_index(self) -> None:
        """Rebuild the index if its folder was deleted or corrupted since the last look (at most every
        ``index_check_seconds``, as often as the ranker searches the index itself)."""
        now = time.monotonic()
        if now - self._checked_at < self.settings.index_check_seconds:
            return
        with self._heal_lock:
            self._checked_at = now
            problem = self.index.local_problem()
            if problem:
                self.index.heal(problem, wipe=True)

    def _heal_after_error(self, error: Exception) -> None:
        with self._heal_lock:
            self.index.heal(
                f"failed a search ({type(error).__name__}: {error})", wipe=True, quiet=self.ranker.outage.active
            )

    @property
    def status(self) -> str:
        """Either "ok", or "degraded" while the index cannot be reached and answers come from memory."""
        return "degraded" if self.ranker.outage.active else "ok"

    @staticmethod
    def _inputs(question: str, history: Sequence[dict[str, Any]] | None, debug: bool | None) -> dict[str, Any]:
        inputs: dict[str, Any] = {"question": question, "history": history}
        if debug is not None:
            inputs["debug"] = debug
        return inputs

    def ask(
        self, question: str, history: Sequence[dict[str, Any]] | None = None, *, debug: bool | None = None
    ) -> Answer:
        """The whole answer to one question, given the conversation so far.

        ``debug`` (default: the ``debug`` setting) adds ``Answer.timings``, milliseconds per step.
        The same steps as ``self.chain.invoke``, without LangChain's callbacks; use the chain to trace.
        """
        return self.pipeline.invoke(self._inputs(question, history, debug))

    def stream(
        self, question: str, history: Sequence[dict[str, Any]] | None = None, *, debug: bool | None = None
    ) -> Iterator[Answer]:
        """The answer in pieces; ``sum`` of them (with ``+``) is what ``ask`` returns."""
        yield from self.pipeline.stream(self._inputs(question, history, debug))

    async def aask(
        self, question: str, history: Sequence[dict[str, Any]] | None = None, *, debug: bool | None = None
    ) -> Answer:
        """``ask`` for async callers; the work runs on worker threads (or worker processes, when a server has
        them), not on the event loop."""
        if self.workers is not None:
            pieces = await self.workers.pieces(question, history, debug)
            if pieces is not None:
                return functools.reduce(operator.add, pieces, Answer())
        return await self.chain.ainvoke(self._inputs(question, history, debug))

    async def astream(
        self, question: str, history: Sequence[dict[str, Any]] | None = None, *, debug: bool | None = None
    ) -> AsyncIterator[Answer]:
        """``stream`` for async callers: the same pieces, each computed on a worker thread (or all of them in a
        worker process, when a server has them)."""
        if self.workers is not None:
            pieces = await self.workers.pieces(question, history, debug)
            if pieces is not None:
                for piece in pieces:
                    yield piece
                return
        async for piece in self.chain.astream(self._inputs(question, history, debug)):
            yield piece

    @property
    def retriever(self) -> HybridRetriever:
        """The configured retrieval as a LangChain retriever."""
        return HybridRetriever(ranker=self.ranker, embeddings=self.embeddings, k=self.settings.top_k)

    def retrieve(self, question: str, k: int = 4) -> list[Document]:
        """Top-k chunks as Documents with metadata 'section', 'chunk_id' and scores."""
        return HybridRetriever(ranker=self.ranker, embeddings=self.embeddings, k=k).invoke(question)


def question_speller(settings: Settings, documents: Sequence[Document]) -> Speller:
    """Reads a misspelled word of a question as the article's word ("prevnt", "releive", "runing").

    Targets: the article's words, the stop words and the words of the example questions
    (``answer_shapes.jsonl``: "prevent", "relieve", "doctor" are how people ask, not always how the article
    says it). Known as written, never corrected: English words (``spelling.english_words``), the words the
    embedding model knows whole, and the subjects the article does not cover (``scope_terms.tsv``), so
    "balm", "knee" or "pilates" stay what they are. The dictionary is read on the first word that needs it.
    """
    texts = [f"{d.metadata['section']} {d.page_content}" for d in documents]
    texts += [row["text"] for row in load_examples()]
    targets = {w for text in texts for w in nlp.words(text) if w.isalpha()}

    def known() -> frozenset[str]:
        try:
            model = model_words(model_path(settings.embedding_model))
        except ModelMissingError:
            model = frozenset()
        return english_words() | model | UNCOVERED_TERMS

    return Speller(targets | nlp.STOPWORDS, known=known)


def passage_questions(embeddings: Embeddings, documents: Sequence[Document], settings: Settings) -> ChunkVectors:
    """Questions each passage answers, as vectors of their own (cached in ``models/`` with the model's name):
    the FAQ pairs' own questions, and the everyday questions of ``data/passage_questions.jsonl`` for the
    passages this index holds."""
    pairs = [
        (d.metadata["chunk_id"], d.metadata["title"])
        for d in documents
        if d.metadata.get("kind") == "faq" and d.metadata.get("title")
    ]
    held = {d.metadata["chunk_id"] for d in documents}
    pairs += [
        (row["chunk_id"], q)
        for row in datafiles.jsonl("passage_questions.jsonl")
        if row["chunk_id"] in held
        for q in row["questions"]
    ]
    if not pairs:
        return ChunkVectors(ids=[], vectors=np.zeros((0, 1), np.float32))
    texts = [q for _, q in pairs]
    vectors = cached_vectors(embeddings, texts, settings.models_dir, settings.embedding_model, "passage-questions")
    return ChunkVectors(ids=[c for c, _ in pairs], vectors=np.asarray(vectors, dtype=np.float32))
