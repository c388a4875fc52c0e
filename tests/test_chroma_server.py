"""The index in a real Chroma server (``chroma run`` on a free loopback port), and one that is not there."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings
from fixtures.common import free_port, run_cli, served

from assistant import texts
from assistant.core import Assistant
from assistant.embeddings import embeddings_for
from assistant.store import Index, IndexUnavailableError

pytestmark = pytest.mark.slow

ICE = "How long should I ice my hip?"


def chroma_command() -> list[str]:
    script = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert script, "the `chroma` console script is not installed next to this Python"
    return [script]


@contextlib.contextmanager
def chroma_server(path: Path, log_file: Path, port: int | None = None):
    """`chroma run` on 127.0.0.1:<port, or a free one>; yields the port once the heartbeat answers."""
    port = port or free_port()
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [*chroma_command(), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, f"chroma run exited: {log_file.read_text(errors='replace')[-2000:]}"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, "the Chroma server did not answer its heartbeat in 60 s"
                time.sleep(0.2)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(folder / "data", folder / "chroma.log") as port:
        yield port


def http_client(port: int) -> chromadb.ClientAPI:
    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))


def building_records(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "assistant.store" and r.getMessage().startswith("Building the index")
    ]


@pytest.fixture(scope="module")
def server_settings(settings, chroma_port, tmp_path_factory):
    # A local folder of its own for the build lock, so the session index is not even locked.
    return settings.model_copy(
        update={
            "chroma_host": "127.0.0.1",
            "chroma_port": chroma_port,
            "index_dir": tmp_path_factory.mktemp("chroma-server-lock"),
        }
    )


@pytest.fixture(scope="module")
def server_bot(server_settings):
    return Assistant(server_settings)


def test_assistant_builds_the_index_in_the_server_and_answers(server_settings, chroma_port, bot, caplog):
    caplog.set_level(logging.INFO, logger="assistant")
    assert http_client(chroma_port).list_collections() == []  # a fresh server
    first = Assistant(server_settings)
    assert first.index.location == f"chroma://127.0.0.1:{chroma_port}/{server_settings.collection}"
    built = building_records(caplog)
    assert len(built) == 1 and f"127.0.0.1:{chroma_port}" in built[0].getMessage()

    answer = first.ask(ICE)
    assert "15-20 minutes" in answer.text and answer.abstained is False
    assert answer.to_dict() == bot.ask(ICE).to_dict()  # same answer as from the local index

    # The vectors really are in the server, as many as the manifest says.
    client = http_client(chroma_port)
    assert client.get_collection(server_settings.collection).count() == first.manifest.chunks > 0
    assert client.get_collection(f"{server_settings.collection}_sentences").count() == first.manifest.sentences > 0
    assert first.manifest.complete and first.manifest.chunks == bot.manifest.chunks
    # Nothing but the build lock was written locally.
    assert [p.name for p in server_settings.index_dir.iterdir()] == [".build.lock"]


def test_second_assistant_reuses_the_server_index(server_settings, chroma_port, server_bot, caplog):
    caplog.set_level(logging.INFO, logger="assistant")
    client = http_client(chroma_port)
    before = client.get_collection(server_settings.collection).count()
    second = Assistant(server_settings)
    assert building_records(caplog) == []
    assert second.index.stale_reasons() == []
    assert second.manifest == server_bot.manifest
    assert client.get_collection(server_settings.collection).count() == before == second.manifest.chunks
    assert "15-20 minutes" in second.ask(ICE).text


def test_cli_index_fills_the_server(chroma_port, server_settings, bot, tmp_path):
    out = run_cli(
        "index",
        index_dir=tmp_path,
        HIP_CHROMA_HOST="127.0.0.1",
        HIP_CHROMA_PORT=str(chroma_port),
        HIP_COLLECTION="cli_hip_pain",
    )
    assert out.returncode == 0, out.stderr
    where = f"chroma://127.0.0.1:{chroma_port}/cli_hip_pain"
    assert f"Building the index at {where}" in out.stderr
    assert f"Index built at {where}: {bot.manifest.chunks} chunks, {bot.manifest.sentences} sentences" in out.stdout

    client = http_client(chroma_port)
    assert client.get_collection("cli_hip_pain").count() == bot.manifest.chunks
    assert client.get_collection("cli_hip_pain_sentences").count() == bot.manifest.sentences
    # The CLI's build is complete and current: an Index over it has nothing to do.
    settings = server_settings.model_copy(update={"collection": "cli_hip_pain"})
    assert Index(settings, embeddings_for(settings)).stale_reasons() == []
    # ... and the other collection is untouched.
    assert client.get_collection(server_settings.collection).count() == bot.manifest.chunks


@pytest.fixture
def closed_port() -> int:
    port = free_port()  # bound, then released: nothing listens there
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_unreachable_server_names_host_and_port(settings, closed_port, tmp_path):
    unreachable = settings.model_copy(
        update={"chroma_host": "127.0.0.1", "chroma_port": closed_port, "index_dir": tmp_path}
    )
    with pytest.raises(IndexUnavailableError) as caught:
        Assistant(unreachable)
    message = str(caught.value)
    assert f"127.0.0.1:{closed_port}" in message
    assert f"chroma run --host 127.0.0.1 --port {closed_port}" in message
    assert "HIP_CHROMA_HOST" in message


@pytest.mark.parametrize("args", [("index",), ("ask", ICE)], ids=["index", "ask"])
def test_cli_exits_2_when_the_server_is_unreachable(closed_port, tmp_path, args):
    out = run_cli(*args, index_dir=tmp_path, HIP_CHROMA_HOST="127.0.0.1", HIP_CHROMA_PORT=str(closed_port))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert f"hip-assistant: Cannot reach the Chroma server at 127.0.0.1:{closed_port}" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


def server_assistant(settings, port: int, tmp_path: Path, **extra) -> Assistant:
    """An Assistant on the Chroma server at `port`, with a lock folder of its own."""
    update = {"chroma_host": "127.0.0.1", "chroma_port": port, "index_dir": tmp_path / "lock", **extra}
    return Assistant(settings.model_copy(update=update))


def test_server_gone_mid_session_answers_from_memory_and_reconnects_by_itself(settings, tmp_path, caplog):
    """The server stops under a live Assistant: questions are still answered (from the chunk vectors and
    BM25 in memory) with a notice, red flags still get their referral, and the status is "degraded"; once
    the server is back, the next attempt reconnects and answers come from the index again."""
    data, log_file = tmp_path / "data", tmp_path / "chroma.log"
    with chroma_server(data, log_file) as port:
        live = server_assistant(settings, port, tmp_path, reconnect_seconds=0.3)
        up = live.ask(ICE)
        assert "15-20 minutes" in up.text and up.notice is None and live.status == "ok"
    time.sleep(live.settings.index_check_seconds)  # the next question searches the index itself
    down = live.ask(ICE)
    assert live.status == "degraded"
    assert down.abstained is False and "15-20 minutes" in down.text, down.text
    assert down.citations[0].chunk_id == up.citations[0].chunk_id
    assert down.notice == texts.DEGRADED_NOTICE
    warned = live.ask("My leg tingles when I run")
    assert warned.referral and "nerve_symptoms" in warned.red_flags and not warned.abstained
    assert live.ask("What is a good pace for a 3:30 marathon?").abstained  # scope still holds from memory
    assert any(r.levelno == logging.WARNING and "answering from memory" in r.getMessage() for r in caplog.records)

    caplog.clear()
    caplog.set_level(logging.INFO, logger="assistant")
    with chroma_server(data, log_file, port=port):
        time.sleep(0.4)  # the next reconnect attempt is due
        answer = live.ask(ICE)
        assert "15-20 minutes" in answer.text and answer.abstained is False and answer.notice is None
        assert live.status == "ok"
        assert building_records(caplog) == []  # the data survived the restart: nothing was rebuilt
        assert live.index.stale_reasons() == []
        assert any("is back after" in r.getMessage() for r in caplog.records)


def _health(url: str) -> dict:
    return httpx.get(f"{url}v1/health", timeout=10).json()


def _answered(url: str) -> float:
    """How many /v1/ask requests the server has answered, from its Prometheus metrics."""
    text = httpx.get(f"{url}metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('hip_requests_total{endpoint="/v1/ask"')
    )


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.1)


def test_load_through_a_chroma_restart_fails_no_request(settings, tmp_path):
    """Eight clients talk to /v1/ask while the Chroma server behind the replica stops and starts again:
    every request is answered, red flags keep their referral, health says "degraded" during the outage
    and "ok" once the replica has reconnected by itself."""
    from evals.load import run_load

    data, log_file = tmp_path / "data", tmp_path / "chroma.log"
    port = free_port()
    summary: dict = {}
    with contextlib.ExitStack() as stack:
        first_server = contextlib.ExitStack()
        first_server.enter_context(chroma_server(data, log_file, port=port))
        stack.callback(first_server.close)
        # Eight clients share one address: no rate limit.
        bot = server_assistant(settings, port, tmp_path, reconnect_seconds=0.5, api_rate_limit=0)
        url = stack.enter_context(served(bot)).url
        load = threading.Thread(
            target=lambda: summary.update(run_load(url, clients=8, requests=900, max_seconds=120, endpoint="ask")),
            daemon=True,
        )
        load.start()
        _wait_for(lambda: _answered(url) >= 150, 90, "the load got going")
        assert _health(url)["status"] == "ok"

        first_server.close()  # the Chroma server stops, with the load running
        _wait_for(lambda: _health(url)["status"] == "degraded", 30, "health turned degraded")
        assert _health(url)["index_problem"]
        at_outage = _answered(url)
        time.sleep(2)
        assert _answered(url) > at_outage + 20  # answers kept coming while the server was gone

        stack.enter_context(chroma_server(data, log_file, port=port))
        _wait_for(lambda: _health(url)["status"] == "ok", 30, "the replica reconnected")
        load.join(timeout=150)
        assert not load.is_alive()
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["leaks"] == 0, summary["leak_examples"]
    assert summary["requests"] == 900 and summary["answers"] == 900
