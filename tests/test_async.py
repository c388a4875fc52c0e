"""The chain for async callers: ``ainvoke``, ``astream``, ``abatch``, ``astream_events``, ``Assistant.aask``.

FastAPI handlers, LangGraph nodes and LangServe call a Runnable asynchronously;
these run the real chain with the real model and index, many at once.
"""

from __future__ import annotations

import asyncio
import functools
import operator

import pytest

QUESTIONS = (
    "How long should I ice my hip?",
    "My leg is numb and I can't walk",
    "How can I prevent hip pain?",
    "What is the capital of France?",
)


def test_ask_and_stream_answer_as_the_chain_does(bot):
    """``ask``/``stream`` skip LangChain's run machinery; the answer must be the chain's, piece by piece."""
    for q in QUESTIONS:
        assert bot.ask(q).to_dict() == bot.chain.invoke({"question": q}).to_dict()
        assert [p.to_dict() for p in bot.stream(q)] == [p.to_dict() for p in bot.chain.stream({"question": q})]


def test_sixteen_concurrent_ainvokes_answer_as_invoke_does(bot):
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(16)]

    async def run():
        return await asyncio.gather(*(bot.chain.ainvoke({"question": q}) for q in questions))

    answers = asyncio.run(run())
    expected = {q: bot.ask(q).to_dict() for q in QUESTIONS}
    assert [a.to_dict() for a in answers] == [expected[q] for q in questions]


def test_aask_astream_and_abatch_match_the_sync_paths(bot):
    question, follow_up = QUESTIONS[1], "how long should each session be?"
    history = [{"role": "user", "content": "Does ice help hip pain?"}, {"role": "assistant", "content": "..."}]

    async def run():
        whole = await bot.aask(question)
        pieces = [piece async for piece in bot.astream(question)]
        batch = await bot.chain.abatch([{"question": q} for q in QUESTIONS])
        follow = await bot.aask(follow_up, history)
        return whole, pieces, batch, follow

    whole, pieces, batch, follow = asyncio.run(run())
    assert whole.to_dict() == bot.ask(question).to_dict()
    assert {"severe_pain", "nerve_symptoms"} <= set(whole.red_flags)
    assert len(pieces) >= 2 and pieces[0].referral is not None  # the referral first, as in stream()
    assert functools.reduce(operator.add, pieces).to_dict() == whole.to_dict()
    assert [a.to_dict() for a in batch] == [bot.ask(q).to_dict() for q in QUESTIONS]
    assert follow.to_dict() == bot.ask(follow_up, history).to_dict()


def test_astream_events_streams_the_answer(bot):
    async def run():
        return [e async for e in bot.chain.astream_events({"question": QUESTIONS[0]}, version="v2")]

    events = asyncio.run(run())
    names = {(e["event"], e["name"]) for e in events}
    assert {("on_chain_start", "hip_assistant"), ("on_chain_end", "hip_assistant")} <= names
    assert ("on_chain_end", "prepare") in names
    streamed = [e["data"]["chunk"] for e in events if e["event"] == "on_chain_stream" and e["name"] == "respond"]
    assert streamed and functools.reduce(operator.add, streamed).text == bot.ask(QUESTIONS[0]).text


def test_the_event_loop_keeps_running_while_answers_are_computed(bot):
    """The CPU work runs on worker threads: a ticker on the loop keeps ticking during 8 answers."""

    async def run():
        ticks = 0
        finished = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not finished.is_set():
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.gather(*(bot.aask(q) for q in QUESTIONS * 2))
        finished.set()
        await task
        return ticks

    assert asyncio.run(run()) > 8


@pytest.mark.slow
def test_cancelling_an_async_answer_cuts_the_model_short(llama_bot):
    llama = llama_bot
    answerer = llama.pipeline.answerer
    cut_before = answerer.stats["cut short"]

    async def run():
        async def read():
            async for _ in llama.astream("What causes hip pain from running, and how do I treat it?"):
                pass

        while answerer._lock.locked():  # the shared model is free before this answer starts
            await asyncio.sleep(0.05)
        task = asyncio.create_task(read())
        while not answerer._lock.locked():  # the model has started
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while answerer._lock.locked():  # the generation ends (at the next token) and frees the model
            await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(run(), timeout=120))
    assert answerer.stats["cut short"] == cut_before + 1
    assert llama.ask("How long should I ice my hip?").text  # the model serves the next question
