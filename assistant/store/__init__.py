"""The Chroma index of the corpus: chunk vectors and sentence vectors.

Two collections live side by side: ``<name>`` holds one vector per chunk for
dense retrieval (queried through langchain-chroma), ``<name>_sentences`` one
vector per answerable sentence so the extractive composer never has to embed
anything but the question. The chunk collection's metadata is the manifest:
corpus hash, model and chunking version. When any of them differs from what
is on disk now, the index is stale and is brought up to date.

``Index`` opens, checks and repairs; ``Builder`` writes the collections;
``Reader`` reads them (the hot path of every question, and the tables held in memory).
"""

from .builder import BATCH, Builder, ProgressFactory, sentence_embed_text
from .client import IndexUnavailableError, make_client
from .index import Index
from .manifest import Manifest
from .reader import ChunkVectors, Reader, SentenceTable

__all__ = [
    "BATCH",
    "Builder",
    "ChunkVectors",
    "Index",
    "IndexUnavailableError",
    "Manifest",
    "ProgressFactory",
    "Reader",
    "SentenceTable",
    "make_client",
    "sentence_embed_text",
]
