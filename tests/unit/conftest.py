"""The unit tier's stand-ins for what the integration tier builds with the real model.

The article is parsed for real; only the vectors are LangChain's ``DeterministicFakeEmbedding``
(a hash of the text), so shapes, ids, markers and quotes are exercised without loading a model.
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.common import CORPUS_DIR
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.corpus import load_corpus
from assistant.safety.referral import CriterionText, criteria_from_documents
from assistant.store import SentenceTable, sentence_embed_text


@pytest.fixture(scope="session")
def fake_embeddings() -> DeterministicFakeEmbedding:
    return DeterministicFakeEmbedding(size=384)


@pytest.fixture(scope="session")
def corpus_documents() -> list[Document]:
    """Every chunk of the article as the index stores it: exact text, metadata with chunk_id."""
    return [
        Document(page_content=c.text, metadata=c.metadata(), id=c.id) for d in load_corpus(CORPUS_DIR) for c in d.chunks
    ]


@pytest.fixture(scope="session")
def documents(corpus_documents) -> dict[str, Document]:
    return {d.metadata["chunk_id"]: d for d in corpus_documents}


@pytest.fixture(scope="session")
def table(fake_embeddings) -> SentenceTable:
    """The answerable sentences of every chunk, as the index's sentence collection holds them."""
    docs = load_corpus(CORPUS_DIR)
    texts, chunk_ids, spans, embedded = [], [], [], []
    rows_by_chunk: dict[str, list[int]] = {}
    for doc in docs:
        for chunk in doc.chunks:
            for span in chunk.sentences:
                rows_by_chunk.setdefault(chunk.id, []).append(len(texts))
                texts.append(doc.text[span[0] : span[1]])
                chunk_ids.append(chunk.id)
                spans.append(span)
                embedded.append(sentence_embed_text(chunk, span, doc.text))
    vectors = np.asarray(fake_embeddings.embed_documents(embedded), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return SentenceTable(texts, chunk_ids, spans, vectors, rows_by_chunk)


@pytest.fixture(scope="session")
def criteria(corpus_documents) -> dict[str, CriterionText]:
    return criteria_from_documents(corpus_documents)
