"""The public contract: from assistant import Assistant, Answer, Citation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

RED_FLAGS = {"persistent_pain", "severe_pain", "infection", "nerve_symptoms"}


def test_public_names_import():
    from assistant import Answer, Assistant, Citation, Settings, load_settings

    assert callable(Assistant) and callable(load_settings)
    assert Answer().text == "" and Answer().citations == []
    assert {"marker", "chunk_id", "section", "text"} <= set(Citation.__dataclass_fields__)
    assert Settings is load_settings().__class__


def test_import_is_light_and_offline_unless_the_process_says_otherwise():
    code = (
        "import os, sys, assistant; "
        "print(os.environ['HF_HUB_OFFLINE'], os.environ['TRANSFORMERS_OFFLINE'], "
        "'torch' in sys.modules, 'chromadb' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env)
    assert out.stdout.split() == ["1", "1", "False", "False"]  # defaulted to offline
    env["TRANSFORMERS_OFFLINE"] = "0"  # the process's own choice is kept
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env)
    assert out.stdout.split() == ["1", "0", "False", "False"]


def test_a_fresh_process_answers_without_torch_transformers_or_scikit_learn(index_dir, bot):
    """Cold start: the ONNX backend tokenizes with `tokenizers`, and the classifiers' fitted weights are
    cached, so a process whose caches exist never imports the heavy libraries (seconds of start-up)."""
    from fixtures.common import child_env

    heavy = ("torch", "transformers", "sklearn", "langchain_huggingface", "sentence_transformers")
    code = (
        "import sys; from assistant import Assistant; "
        "a = Assistant().ask('How long should I ice my hip?'); "
        f"print('15-20 minutes' in a.text, *[m for m in {heavy!r} if m in sys.modules])"
    )
    env = child_env(index_dir, **({"HIP_MODELS_DIR": str(bot.settings.models_dir)}))
    for _ in range(2):  # the first run may fit and write the caches
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True"], out.stdout


@pytest.fixture(scope="module")
def default_bot(index_dir, bot, monkeypatch_module):
    """Assistant() with no arguments, pointed at the session index through HIP_INDEX_DIR."""
    from assistant import Assistant

    monkeypatch_module.setenv("HIP_INDEX_DIR", str(index_dir))
    return Assistant()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_assistant_without_arguments_uses_env(default_bot, index_dir, bot):
    assert default_bot.settings.index_dir == index_dir
    assert default_bot.manifest == bot.manifest  # reused, not rebuilt
    assert default_bot.settings.retrieval == "hybrid" and default_bot.settings.answerer == "extractive"


def check_answer_types(answer):
    from assistant import Answer, Citation
    from assistant.answer import Referral

    assert isinstance(answer, Answer)
    assert isinstance(answer.text, str)
    assert isinstance(answer.citations, list)
    for c in answer.citations:
        assert isinstance(c, Citation)
        assert isinstance(c.marker, int) and not isinstance(c.marker, bool)
        assert isinstance(c.chunk_id, str) and c.chunk_id
        assert isinstance(c.section, str) and c.section
        assert isinstance(c.text, str) and c.text
    assert isinstance(answer.red_flags, list)
    assert all(isinstance(f, str) for f in answer.red_flags)
    assert set(answer.red_flags) <= RED_FLAGS
    assert answer.referral is None or isinstance(answer.referral, Referral)
    assert isinstance(answer.abstained, bool)
    assert answer.answerer == "extractive"


@pytest.mark.parametrize(
    "question",
    [
        "How long should I ice my hip?",
        "How many mg of ibuprofen should I take for hip pain?",
        "How do I fix a flat bicycle tyre?",
        "",
        "My hip is red, swollen and hot and I have a fever.",
    ],
)
def test_ask_returns_a_typed_answer(default_bot, question):
    answer = default_bot.ask(question)
    check_answer_types(answer)
    data = answer.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "text",
        "citations",
        "red_flags",
        "referral",
        "abstained",
        "answerer",
        "notice",
        "shape",
        "items",
        "timings",
    }
    assert data["timings"] is None  # only when asked for (debug)
    assert data["shape"] in ("specific", "list", "summary", "definition")
    for c in data["citations"]:
        assert {"marker", "chunk_id", "section", "text", "source", "start", "end", "title", "quotes"} == set(c)
        assert isinstance(c["quotes"], list)


def test_headline_answer_through_default_assistant(default_bot):
    answer = default_bot.ask("How long should I ice my hip?")
    assert "15-20 minutes" in answer.text
    assert answer.citations[0].section == "Treatment Options for Hip Pain from Running"
    assert answer.abstained is False


def test_history_none_and_messages(default_bot):
    alone = default_bot.ask("how long should each session be?", history=None)
    history = [
        {"role": "user", "content": "Does ice help hip pain?"},
        {"role": "assistant", "content": "Yes, icing can reduce inflammation."},
    ]
    follow = default_bot.ask("how long should each session be?", history=history)
    check_answer_types(alone)
    check_answer_types(follow)
    assert "15-20 minutes" in follow.text
    assert "hip-pain-from-running/treatment-options/1-rest-and-ice" in [c.chunk_id for c in follow.citations]
    # Gradio pair lists work too and mean the same conversation.
    pairs = [["Does ice help hip pain?", "Yes, icing can reduce inflammation."]]
    assert default_bot.ask("how long should each session be?", history=pairs).to_dict() == follow.to_dict()


def test_long_question_is_answered_with_a_notice(default_bot):
    question = "How long should I ice my hip? " + "I run a lot and it hurts. " * 200
    answer = default_bot.ask(question)
    limit = default_bot.settings.max_question_chars
    assert len(question) > limit
    assert answer.notice and f"{limit:,}" in answer.notice
    assert not answer.abstained and answer.citations


def test_keyword_overrides(bot):
    from assistant import Assistant

    dense = Assistant(bot.settings, retrieval="dense")
    assert dense.settings.retrieval == "dense" and bot.settings.retrieval == "hybrid"
    assert dense.settings.index_dir == bot.settings.index_dir
    assert dense.ask("How long should I ice my hip?").citations


def test_wrong_setting_raises_settings_error_listing_allowed_values(index_dir):
    from assistant import Assistant, load_settings
    from assistant.settings import SettingsError

    with pytest.raises(SettingsError) as info:
        load_settings(retrieval="foo")
    message = str(info.value)
    assert "HIP_RETRIEVAL" in message
    for allowed in ("hybrid", "dense", "bm25"):
        assert allowed in message
    assert isinstance(info.value, ValueError)

    with pytest.raises(SettingsError, match="extractive"):
        Assistant(index_dir=index_dir, answerer="gpt")
    with pytest.raises(SettingsError, match="HIP_TOP_K"):
        load_settings(top_k=0)


def test_wrong_setting_from_environment(monkeypatch, index_dir):
    from assistant import Assistant
    from assistant.settings import SettingsError

    monkeypatch.setenv("HIP_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("HIP_RETRIEVAL", "foo")
    with pytest.raises(SettingsError, match=r"'hybrid', 'dense' or 'bm25'"):
        Assistant()


def test_answer_addition():
    from assistant import Answer, Citation
    from assistant.answer import Referral

    SEE_A_DOCTOR = Referral("care", "See a doctor.", ())

    c1 = Citation(marker=1, chunk_id="a", section="S", text="One.")
    c1_other = Citation(marker=1, chunk_id="zzz", section="S", text="Other.")
    c2 = Citation(marker=2, chunk_id="b", section="S", text="Two.")
    a = Answer(text="One [1].", citations=[c1], red_flags=["severe_pain"], answerer="extractive")
    b = Answer(
        text=" Two [2].",
        citations=[c1_other, c2],
        red_flags=["severe_pain", "infection"],
        referral=SEE_A_DOCTOR,
        abstained=True,
        notice="cut",
    )
    total = a + b
    assert total.text == "One [1]. Two [2]."
    assert total.citations == [c1, c2]  # one citation per marker; the first one wins
    assert total.red_flags == ["severe_pain", "infection"]
    assert total.referral == SEE_A_DOCTOR
    assert total.abstained is True
    assert total.answerer == "extractive"
    assert total.notice == "cut"
    assert (Answer(notice="a") + Answer(notice="b")).notice == "a b"
    first, second = Referral("care", "first", ()), Referral("care", "second", ())
    assert (Answer(referral=first) + Answer(referral=second)).referral == first
    assert Answer() + Answer() == Answer()
    # The operands are not changed.
    assert a.text == "One [1]." and a.citations == [c1]
    with pytest.raises(TypeError):
        a + "text"
    assert sum([a, b], Answer()) == total


def test_debug_timings_from_the_python_api(bot):
    """Assistant(debug=True) or ask(..., debug=True): milliseconds per step, summed over a stream too."""
    from assistant import Assistant

    plain = bot.ask("How long should I ice my hip?")
    assert plain.timings is None
    timed = bot.ask("How long should I ice my hip?", debug=True)
    assert set(timed.timings) == {"condense", "embed", "rank", "scope", "safety", "plan", "answer"}
    assert timed.text == plain.text and timed.citations == plain.citations
    streamed = sum(bot.stream("My leg tingles when I run", debug=True))
    assert streamed.timings and streamed.timings["safety"] > 0 and streamed.referral
    debug_bot = Assistant(bot.settings, debug=True)
    assert debug_bot.ask("hi").timings is not None
    assert debug_bot.ask("hi", debug=False).timings is None


def test_every_deliberate_error_derives_from_one_base():
    """Front doors catch one class; each error keeps the built-in class it always had."""
    from assistant import HipAssistantError
    from assistant.api import ApiError
    from assistant.cli import KNOWN_ERRORS
    from assistant.embeddings import ModelMissingError
    from assistant.feedback import FeedbackError
    from assistant.safety import SafetyConfigError
    from assistant.settings import SettingsError
    from assistant.store import IndexUnavailableError

    for error, builtin in (
        (SettingsError, ValueError),
        (FeedbackError, ValueError),
        (ModelMissingError, RuntimeError),
        (IndexUnavailableError, RuntimeError),
        (SafetyConfigError, RuntimeError),
        (ApiError, Exception),
    ):
        assert issubclass(error, HipAssistantError) and issubclass(error, builtin), error
    assert HipAssistantError in KNOWN_ERRORS
