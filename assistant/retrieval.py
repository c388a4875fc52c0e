"""Rank chunks for a question: dense (Chroma), BM25, or both fused.

Dense similarity catches paraphrases ("cold pack" for ice); BM25 catches rare
exact words ("corticosteroid", "pigeon pose") that a small embedding model
blurs. Fusion is a weighted sum of the cosine similarity and the BM25 score
squashed to 0..1, or weighted reciprocal-rank fusion; the weights are tuned
on the dev set (see ``evals/``), where plain equal-weight RRF lost to dense.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, SkipValidation

from . import nlp
from .corpus import contextualize
from .embeddings import embed_query
from .settings import RetrievalMode, Settings
from .store import ChunkVectors, Index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """A ranked chunk with the evidence behind its rank."""

    doc: Document
    score: float
    dense: float
    """Cosine similarity of question and chunk (0 when not among the dense candidates)."""
    lexical: float
    """BM25 score squashed into 0..1 with s / (s + bm25_half)."""
    source: Literal["index", "memory"] = "index"
    """"memory" while the index cannot be reached (the answer says so); "index" otherwise, whether the cosine
    came from the index or from its exact copy in memory (``Ranker.dense_scores``)."""

    @property
    def chunk_id(self) -> str:
        chunk_id: str = self.doc.metadata["chunk_id"]
        return chunk_id


@dataclass(frozen=True)
class Ranking:
    """Every chunk's fused score for one question, as one array in the ranker's chunk order.

    What weighing whole sections needs (``Composer``): a score per chunk and
    the first few. On a 10,000-chunk corpus a ``Hit`` for every chunk, sorted,
    cost 8 ms; this costs a fraction of one.
    """

    scores: np.ndarray
    position: dict[str, int]
    documents: list[Document]

    def score(self, chunk_id: str) -> float:
        return float(self.scores[self.position[chunk_id]])

    def top(self, n: int) -> list[Document]:
        """The n best-scored chunks, ties in the chunk order (as ``Ranker.rank`` breaks them)."""
        if n <= 0:
            return []
        return [self.documents[i] for i in sorted(_best(self.scores, n), key=lambda i: (-self.scores[i], i))]


def _best(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k highest scores, ties to the earlier chunk, in no order: a partial sort (a full one
    cost half a millisecond a question on 10,000 chunks)."""
    n = len(scores)
    if k >= n:
        return list(range(n))
    threshold = scores[np.argpartition(-scores, k - 1)[k - 1]]
    above = np.flatnonzero(scores > threshold)
    ties = np.flatnonzero(scores == threshold)[: k - len(above)]
    return [*above.tolist(), *ties.tolist()]


def _with_scores(hit: Hit) -> Document:
    meta = {
        **hit.doc.metadata,
        "score": round(hit.score, 4),
        "dense": round(hit.dense, 4),
        "lexical": round(hit.lexical, 4),
    }
    return Document(page_content=hit.doc.page_content, metadata=meta, id=hit.doc.id)


def bm25_tokens(documents: list[Document]) -> list[list[str]]:
    """What BM25 indexes for each chunk: the stems of its section heading and its text."""
    return [nlp.stems(contextualize(d.metadata["section"], d.page_content)) for d in documents]


class Bm25:
    """Okapi BM25 over the chunks' stems as an inverted index: per term, its chunks and their weights.

    The scores are rank_bm25's ``BM25Okapi`` up to rounding (k1 1.5, b 0.75,
    a term in more than half the chunks weighs a quarter of the average idf;
    the fusion weights were tuned on them, and a test holds them equal), but a
    question costs a few array additions over the chunks that hold its terms
    rather than a Python pass over every chunk per term, which is what keeps a
    100,000-chunk corpus fast (``evals/bench.py`` measures both, and bm25s).
    """

    K1, B, EPSILON = 1.5, 0.75, 0.25

    def __init__(self, token_lists: list[list[str]]) -> None:
        self.size = len(token_lists)
        lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.float64)
        average = float(lengths.mean()) if self.size and lengths.sum() else 1.0
        postings: dict[str, dict[int, int]] = {}
        for doc, tokens in enumerate(token_lists):
            for token in tokens:
                row = postings.setdefault(token, {})
                row[doc] = row.get(doc, 0) + 1
        idf = {t: math.log(self.size - len(row) + 0.5) - math.log(len(row) + 0.5) for t, row in postings.items()}
        floor = self.EPSILON * (sum(idf.values()) / len(idf)) if idf else 0.0
        norm = self.K1 * (1.0 - self.B + self.B * lengths / average)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for token, row in postings.items():
            docs = np.fromiter(row, dtype=np.intp, count=len(row))
            freq = np.fromiter(row.values(), dtype=np.float64, count=len(row))
            weight = idf[token] if idf[token] >= 0 else floor
            self.postings[token] = (docs, weight * freq * (self.K1 + 1.0) / (freq + norm[docs]))
        self.vocabulary: set[str] = set(self.postings)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """The BM25 score of every chunk for these tokens (a repeated token counts again), in chunk order."""
        out = np.zeros(self.size)
        for token in tokens:
            posting = self.postings.get(token)
            if posting is not None:
                out[posting[0]] += posting[1]
        return out


class Outage:
    """Whether the index is away, since when, and when to try it again; shared by the threads of one Assistant.

    While it is away, one question every ``retry_seconds`` tries the index
    (and reconnects when it answers); the others are answered from memory at
    once, so an outage costs no question a timeout.
    """

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self.since: float | None = None
        self.reason = ""
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.since is not None

    def should_try(self) -> bool:
        """True when this question should ask the index: it is up, or this one claimed the next attempt."""
        if self.since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if self.since is None or now >= self._retry_at:
                self._retry_at = now + self.retry_seconds
                return True
            return False

    def failed(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            if self.since is None:
                self.since = now
                log.warning("The index cannot be reached (%s); answering from memory until it is back", error)
            self.reason = f"{type(error).__name__}: {error}"
            self._retry_at = now + self.retry_seconds

    def recovered(self) -> None:
        if self.since is None:
            return
        with self._lock:
            if self.since is not None:
                log.warning("The index is back after %.1f s; answering from it again", time.monotonic() - self.since)
                self.since, self.reason = None, ""


class Ranker:
    """Ranks the chunks of one index; holds BM25 and the chunk vectors in memory, checks them against Chroma.

    Chroma is the store of record: the chunks and their vectors are read from it
    at start, and it is searched at most every ``index_check_seconds``. Other
    questions search the vectors it gave, in memory: the same exact cosines
    without a round trip through the client (about 1 ms of a 4 ms answer on the
    article, the largest step after the embedding; ``evals/bench.py``).
    """

    QUESTION_MIN = 0.72
    """A passage's question counts only from this similarity: paraphrases score 0.75-0.9, and everyday wordings
    of the same ask ("any strength moves to bulletproof the hips?", 0.749 from "Should runners do strength
    training for their hips?") from 0.72. 0.75 -> 0.72: must-cite 89.5% -> 90.5% (dev + test), broad dev 6, 12,
    14 and 15 +0.3 to +0.8 points, nothing lower; 0.70 cost broad dev 11 a point. "do shoe inserts help?" is
    0.73 from the shoes FAQ, less the offset below than orthotics' own passage, so orthotics still leads."""
    QUESTION_OFFSET = 0.04
    """What a FAQ question's similarity gives up against the chunk's own: a short question is near many
    queries. Ranking every question this way, 0 lost dev hit@1 (84.2% -> 78.9%) for the FAQ set's gain
    (70.0% -> 96.7%); 0.04 kept dev at 84.2% and gave the FAQ set 86.7%, the terse set 83.9% -> 87.1%."""

    def __init__(
        self,
        settings: Settings,
        index: Index,
        documents: list[Document],
        heal: Callable[[Exception], None] | None = None,
        memory: ChunkVectors | None = None,
        questions: ChunkVectors | None = None,
    ) -> None:
        self.settings = settings
        self.questions = questions
        """The FAQ pairs' questions, embedded on their own (``with_questions``): "can I run through hip pain" is
        the FAQ "Can I continue running with hip pain?", though the whole pair is nearer the article's generic
        paragraphs."""
        self.index = index
        self.heal = heal
        """Called with the error when vector search fails; repairs the index so the search can be retried."""
        self.memory = memory
        """The chunk vectors dense search falls back on while the index cannot be reached."""
        self._memory_rows = {chunk_id: row for row, chunk_id in enumerate(memory.ids)} if memory else {}
        self.outage = Outage(settings.reconnect_seconds)
        self._searched_at = -math.inf  # when a question last searched the index itself
        self._last = threading.local()  # per thread: the last vector and its cosines with every chunk in memory
        self._search_lock = threading.Lock()
        self.documents = documents
        self.position = {d.metadata["chunk_id"]: i for i, d in enumerate(documents)}
        held = [self._memory_rows.get(d.metadata["chunk_id"]) for d in documents]
        self._memory_order = None if None in held or not documents else np.array(held, dtype=np.intp)
        """Row of each chunk's vector in ``memory``, in the chunk order (None unless memory holds every chunk)."""
        self.bm25 = Bm25(bm25_tokens(documents))
        self.vocabulary = self.bm25.vocabulary

    def _index_due(self) -> bool:
        """True for the question that should search the index itself: none has for ``index_check_seconds``."""
        with self._search_lock:
            now = time.monotonic()
            if now - self._searched_at < self.settings.index_check_seconds:
                return False
            self._searched_at = now
            return True

    def dense_scores(self, vector: np.ndarray, k: int) -> tuple[dict[str, float], bool]:
        """Cosine similarity of the top-k chunks, and whether the index was away (answered from memory).

        From the vectors in memory, except when the index is due for a search
        (``_index_due``) or, while it is away, for a reconnect attempt. A failed
        search is healed (reopened, rebuilt if need be) and retried; when that
        fails too, the vectors in memory stand in and the outage begins.
        """
        if self.memory is not None:
            if self.outage.active and not self.outage.should_try():
                return self._nearest_in_memory(vector, k), True
            if not self.outage.active and not self._index_due():
                return self._nearest_in_memory(vector, k), False
        try:
            try:
                scores = self.index.nearest(vector, k)
            except Exception as exc:
                if self.heal is None:
                    raise
                self.heal(exc)
                scores = self.index.nearest(vector, k)
        except Exception as exc:
            if self.memory is None:
                raise
            self.outage.failed(exc)
            return self._nearest_in_memory(vector, k), True
        self.outage.recovered()
        return scores, False

    def with_questions(self, query: str, vector: np.ndarray, hits: list[Hit]) -> list[Hit]:
        """`hits` re-ranked with the FAQ questions: a FAQ chunk whose question is nearer the query than its
        text (less ``QUESTION_OFFSET``) scores as that question. For specific answers only: what the
        composer decides about a list or a summary rests on the chunks themselves."""
        if self.questions is None or not self.questions.ids or self.settings.fusion != "weighted" or not hits:
            return hits
        w = self.settings.dense_weight
        lexical: np.ndarray | None = None  # BM25 again only when a FAQ question comes near (rarely)
        known = {h.chunk_id: h for h in hits}
        source = hits[0].source
        sims = self.questions.vectors @ vector
        for row in np.flatnonzero(sims >= self.QUESTION_MIN):
            chunk_id = self.questions.ids[row]
            question = float(sims[row]) - self.QUESTION_OFFSET
            i = self.position[chunk_id]
            hit = known.get(chunk_id)
            own = hit.dense if hit is not None else self._dense_of(chunk_id, vector)
            if question > own:
                if lexical is None:
                    lexical = self.lexical_scores(query)
                known[chunk_id] = Hit(
                    self.documents[i], w * question + (1 - w) * float(lexical[i]), question, float(lexical[i]), source
                )
        return sorted(known.values(), key=lambda h: (-h.score, self.position[h.chunk_id]))[: len(hits)]

    def _similarities(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of `vector` with every chunk in memory (memory's order). A question's ranking, its scope's
        sentence pool and its sections all ask for the same vector: the last one is kept (per thread), since on
        10,000 chunks each pass over the vectors costs half a millisecond."""
        assert self.memory is not None
        last = getattr(self._last, "pair", None)
        if last is not None and last[0] is vector:
            sims: np.ndarray = last[1]
            return sims
        sims = self.memory.vectors @ vector
        self._last.pair = (vector, sims)
        return sims

    def _nearest_in_memory(self, vector: np.ndarray, k: int) -> dict[str, float]:
        assert self.memory is not None
        return self.memory.nearest(vector, k, sims=self._similarities(vector))

    def nearest_chunks(self, vector: np.ndarray, k: int) -> list[str] | None:
        """The k chunks nearest to `vector`, from the vectors in memory; None when that is every chunk."""
        if self.memory is None or k >= len(self.memory.ids):
            return None
        return list(self._nearest_in_memory(vector, k))

    def _dense_of(self, chunk_id: str, vector: np.ndarray) -> float:
        """The chunk's cosine from the vectors in memory (0 when they are not held)."""
        row = self._memory_rows.get(chunk_id)
        if self.memory is None or row is None:
            return 0.0
        return float(self.memory.vectors[row] @ vector)

    def lexical_scores(self, query: str) -> np.ndarray:
        """BM25 of every chunk, squashed into 0..1; everyday words also match the article's words for them."""
        tokens = nlp.stems(nlp.expand(query))
        if not tokens:
            return np.zeros(len(self.documents))
        raw = np.maximum(self.bm25.scores(tokens), 0.0)
        squashed: np.ndarray = raw / (raw + self.settings.bm25_half)
        return squashed

    def rank(
        self,
        query: str,
        vector: np.ndarray,
        *,
        mode: RetrievalMode | None = None,
        k: int | None = None,
        dense: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The top-k chunks for a query whose unit embedding is `vector` (`dense`: scores already known)."""
        mode = mode or self.settings.retrieval
        k = k or self.settings.top_k
        n = len(self.documents)
        fetch = min(max(self.settings.fetch_k, k), n)
        from_memory = False
        if dense is None:
            dense, from_memory = self.dense_scores(vector, fetch) if mode != "bm25" else ({}, False)
        lexical = self.lexical_scores(query) if mode != "dense" else np.zeros(n)
        dense_all = np.zeros(n)
        for chunk_id, sim in dense.items():
            dense_all[self.position[chunk_id]] = sim
        if mode == "dense":
            fused = dense_all.copy()
            candidates = [self.position[c] for c in dense]
        elif mode == "bm25":
            fused = lexical.copy()
            candidates = _best(lexical, fetch)
        else:
            candidates = sorted(set(self.position[c] for c in dense) | set(_best(lexical, fetch)))
            fused = self._fuse(dense_all, lexical, candidates)
        order = sorted(candidates, key=lambda i: (-fused[i], i))[:k]
        source: Literal["index", "memory"] = "memory" if from_memory else "index"
        return [Hit(self.documents[i], float(fused[i]), float(dense_all[i]), float(lexical[i]), source) for i in order]

    def rank_all(self, query: str, vector: np.ndarray) -> Ranking:
        """Every chunk's score as ``rank`` fuses it, from the chunk vectors in memory, as one array."""
        n = len(self.documents)
        mode = self.settings.retrieval
        if self._memory_order is None or self.memory is None:
            scores = np.zeros(n)
            for hit in self.rank(query, vector, k=n):
                scores[self.position[hit.chunk_id]] = hit.score
            return Ranking(scores, self.position, self.documents)
        dense = self._similarities(vector)[self._memory_order].astype(np.float64)
        lexical = self.lexical_scores(query) if mode != "dense" else np.zeros(n)
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            # ``rank`` takes BM25's first fetch_k as its candidates; the others score nothing.
            fused = np.zeros(n)
            top = _best(lexical, max(self.settings.fetch_k, 1))
            fused[top] = lexical[top]
        else:
            fused = self._fuse(dense, lexical, list(range(n)))
        return Ranking(fused, self.position, self.documents)

    def promote(self, hits: list[Hit], chunk_ids: list[str]) -> list[Hit]:
        """`hits` with the given chunks moved (or added) to the front, same length."""
        if not chunk_ids:
            return hits
        known = {h.chunk_id: h for h in hits}
        top = max((h.score for h in hits), default=0.0)
        source = hits[0].source if hits else "index"
        front = [known.get(c) or Hit(self.documents[self.position[c]], top, 0.0, 0.0, source) for c in chunk_ids]
        rest = [h for h in hits if h.chunk_id not in chunk_ids]
        return (front + rest)[: max(len(hits), len(front))]

    def _fuse(self, dense: np.ndarray, lexical: np.ndarray, candidates: list[int]) -> np.ndarray:
        w = self.settings.dense_weight
        if self.settings.fusion == "weighted":
            return w * dense + (1.0 - w) * lexical
        fused = np.zeros(len(dense))
        rrf_k = self.settings.rrf_k
        for scores, weight in ((dense, w), (lexical, 1.0 - w)):
            ranked = sorted(candidates, key=lambda i: -scores[i])
            for rank, i in enumerate(ranked, start=1):
                if scores[i] > 0:
                    fused[i] += weight / (rrf_k + rank)
        return fused


class HybridRetriever(BaseRetriever):
    """The ranker as a LangChain retriever: Documents with section, chunk_id and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    ranker: Ranker
    embeddings: SkipValidation[Embeddings]
    """Not validated by pydantic: any object with ``embed_query`` serves."""
    k: int = 4
    mode: RetrievalMode | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        vector = embed_query(self.embeddings, query)
        return [_with_scores(h) for h in self.ranker.rank(query, vector, mode=self.mode, k=self.k)]
