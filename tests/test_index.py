"""The persistent Chroma index: built on first use, checked, rebuilt when stale.

Tests that change an index work on their own copy of the corpus and their own
index folder (one per module, built once), never on the session index.
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import numpy as np
import pytest
from chromadb.api.models.Collection import Collection

import assistant.store.client
import assistant.store.index
from assistant.core import Assistant
from assistant.corpus import load_corpus
from assistant.embeddings import embed_query, embeddings_for
from assistant.settings import load_settings
from assistant.store import Index


@pytest.fixture(scope="module")
def work(tmp_path_factory, helpers):
    """Settings for a private corpus copy and index folder (the index is not built yet)."""
    root = tmp_path_factory.mktemp("work-index")
    corpus = helpers.copy_corpus(root / "corpus")
    return load_settings(corpus_dir=corpus, index_dir=root / "index")


@pytest.fixture(scope="module")
def work_bot(work):
    """The first Assistant on the private folder: it builds the index.

    What first use produced is recorded here, so the tests below stay valid in any order
    (one of them edits the corpus and makes the Assistant rebuild).
    """
    before = fresh_index(work).stale_reasons()
    bot = Assistant(work)
    chunks, n_sentences = parsed(work)
    index = fresh_index(work)
    return SimpleNamespace(
        reasons_before=before,
        reasons_after=index.stale_reasons(),
        manifest=bot.manifest,
        stored_manifest=index.manifest(),
        bot=bot,
        chunks=chunks,
        n_sentences=n_sentences,
        snapshot=snapshot(index),
    )


def fresh_index(settings) -> Index:
    """A new Index object, so no test reuses collection handles a rebuild has dropped."""
    return Index(settings, embeddings_for(settings))


def parsed(settings):
    chunks = [c for d in load_corpus(settings.corpus_dir) for c in d.chunks]
    return chunks, sum(len(c.sentences) for c in chunks)


def snapshot(index: Index) -> dict:
    chunks = index.client.get_collection(index.chunk_collection).get(include=["documents", "metadatas"])
    sentences = index.client.get_collection(index.sentence_collection).get(include=["documents", "metadatas"])
    return {
        "chunks": sorted(zip(chunks["ids"], chunks["documents"], map(sorted_items, chunks["metadatas"]), strict=True)),
        "sentences": sorted(
            zip(sentences["ids"], sentences["documents"], map(sorted_items, sentences["metadatas"]), strict=True)
        ),
    }


def sorted_items(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def test_index_builds_on_first_use(work_bot):
    assert work_bot.reasons_before == ["no index yet"]
    chunks, n_sentences = work_bot.chunks, work_bot.n_sentences
    manifest = work_bot.manifest
    assert manifest.complete is True
    assert manifest.chunks == len(chunks) == len(work_bot.bot.documents)
    assert manifest.sentences == n_sentences == len(work_bot.bot.sentences.texts)
    assert work_bot.stored_manifest == manifest
    assert work_bot.reasons_after == []
    snap = work_bot.snapshot
    assert [row[0] for row in snap["chunks"]] == sorted(c.id for c in chunks)
    # Each stored chunk is the exact source text, with its span.
    by_id = {c.id: c for c in chunks}
    for cid, text, meta in snap["chunks"]:
        assert text == by_id[cid].text
        assert dict(meta)["start"] == by_id[cid].start and dict(meta)["end"] == by_id[cid].end
    assert len(snap["sentences"]) == n_sentences
    # Each sentence in memory is the source text between its offsets, though the index stores no sentence text.
    source = load_corpus(work_bot.bot.settings.corpus_dir)[0].text
    table = work_bot.bot.sentences
    assert table.texts and all(t == source[a:b] for t, (a, b) in zip(table.texts, table.spans, strict=True))


def test_ensure_again_is_a_no_op(work, work_bot, caplog):
    index = fresh_index(work)
    stored = index.manifest()
    before = snapshot(index)
    with caplog.at_level(logging.INFO, logger="assistant"):
        manifest = index.ensure()
    assert not [r for r in caplog.records if "Building the index" in r.getMessage()]
    assert manifest == stored and manifest.complete
    assert snapshot(index) == before
    assert index.stale_reasons() == []


def test_session_index_ensure_is_a_no_op(bot, caplog):
    ids_before = sorted(bot.documents)
    with caplog.at_level(logging.INFO, logger="assistant"):
        manifest = bot.index.ensure()
    assert not [r for r in caplog.records if "Building the index" in r.getMessage()]
    assert manifest == bot.manifest
    assert bot.index.stale_reasons() == []
    assert sorted(d.metadata["chunk_id"] for d in bot.index.read_chunks()[0]) == ids_before


def test_an_index_of_the_old_layout_is_rebuilt_in_the_new_one(work, work_bot):
    """Layout 1 stored each sentence's text and chunk id; rows written that way never compare equal to the new
    ones, so an index of that layout is stale, and its build starts from empty collections."""
    index = fresh_index(work)
    before = snapshot(index)
    chunks = index.client.get_collection(index.chunk_collection)
    chunks.modify(metadata={**index.manifest().to_metadata(), "manifest_layout": "1"})
    sentences = index.client.get_collection(index.sentence_collection)
    row = sentences.get(limit=1, include=["metadatas", "embeddings"])
    old = {**row["metadatas"][0], "chunk_id": row["ids"][0].rpartition("#s")[0], "position": 0}
    sentences.upsert(ids=row["ids"], embeddings=row["embeddings"], documents=["old text"], metadatas=[old])
    assert index.stale_reasons() == ["layout changed"]
    index.ensure()
    assert fresh_index(work).stale_reasons() == []
    assert snapshot(fresh_index(work)) == before


def test_rebuild_is_idempotent(work, work_bot, caplog):
    index = fresh_index(work)
    stored = index.manifest()
    before = snapshot(index)
    with caplog.at_level(logging.INFO, logger="assistant"):
        manifest = index.ensure(rebuild=True)
    assert [r for r in caplog.records if "Building the index" in r.getMessage()]
    assert manifest == stored and manifest.complete  # same hash, model, version and counts
    assert snapshot(fresh_index(work)) == before
    assert fresh_index(work).stale_reasons() == []


def test_building_an_unchanged_corpus_embeds_nothing_and_a_rebuild_embeds_everything(work, work_bot, caplog):
    index = fresh_index(work)
    with caplog.at_level(logging.INFO, logger="assistant.store"):
        index.build()
        index.build(force=True)
    ready = [r.getMessage() for r in caplog.records if "Index ready" in r.getMessage()]
    assert "(0 rows embedded)" in ready[0], ready
    manifest = index.manifest()
    assert f"({manifest.chunks + manifest.sentences} rows embedded)" in ready[1], ready


def test_a_collection_is_read_a_page_at_a_time(work, work_bot, monkeypatch, caplog):
    """One ``get`` of every row fails past SQLite's limit of variables ("too many SQL variables" at 100,000
    chunks): whole collections are read in pages, and the pages add up to the one read."""
    index = fresh_index(work)
    whole_docs, whole_vectors = index.read_chunks()
    whole_sentences = index.sentence_table(whole_docs)
    calls = []
    original = Collection.get

    def counted(self, *args, **kwargs):
        calls.append(kwargs.get("limit"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(assistant.store.client, "READ_PAGE", 7)
    monkeypatch.setattr(Collection, "get", counted)
    docs, vectors = index.read_chunks()
    sentences = index.sentence_table(docs)
    assert [d.id for d in docs] == [d.id for d in whole_docs]
    assert [d.page_content for d in docs] == [d.page_content for d in whole_docs]
    assert vectors.ids == whole_vectors.ids and np.array_equal(vectors.vectors, whole_vectors.vectors)
    assert sentences.texts == whole_sentences.texts
    assert np.array_equal(sentences.vectors, whole_sentences.vectors)
    assert len(calls) >= (len(docs) + len(sentences.texts)) // 7 and set(calls) == {7}
    # An incremental build reads what the index holds the same way, and finds nothing to embed.
    with caplog.at_level(logging.INFO, logger="assistant.store"):
        index.build()
    assert any("(0 rows embedded)" in r.getMessage() for r in caplog.records)
    assert index.stale_reasons() == []


def test_deleted_chunk_row_is_detected_and_repaired(work, work_bot):
    index = fresh_index(work)
    collection = index.client.get_collection(index.chunk_collection)
    victim = "hip-pain-from-running/treatment-options/1-rest-and-ice"
    collection.delete(ids=[victim])
    reasons = index.stale_reasons()
    assert reasons, "a missing chunk row went unnoticed"
    assert any("count" in r for r in reasons), reasons
    manifest = index.ensure()
    assert manifest.complete and manifest.chunks == len(parsed(work)[0])
    assert index.client.get_collection(index.chunk_collection).get(ids=[victim])["ids"] == [victim]
    assert index.stale_reasons() == []


def test_deleted_sentence_row_is_detected(work, work_bot):
    index = fresh_index(work)
    collection = index.client.get_collection(index.sentence_collection)
    victim = "hip-pain-from-running/treatment-options/1-rest-and-ice#s2"
    row = collection.get(ids=[victim], include=["documents", "metadatas", "embeddings"])
    assert row["ids"] == [victim]
    collection.delete(ids=[victim])
    try:
        assert index.stale_reasons(), "a missing sentence row went unnoticed"
    finally:  # put the row back so the module's index stays whole
        collection.upsert(
            ids=row["ids"], documents=row["documents"], metadatas=row["metadatas"], embeddings=row["embeddings"]
        )
        assert collection.count() == index.manifest().sentences


def test_chunking_version_bump_makes_index_stale(work, work_bot, monkeypatch):
    index = fresh_index(work)
    assert index.stale_reasons() == []
    monkeypatch.setattr(assistant.store.index, "CHUNKING_VERSION", assistant.store.index.CHUNKING_VERSION + "-next")
    reasons = index.stale_reasons()
    assert any("chunking" in r for r in reasons), reasons


def test_collections_use_cosine_space(bot):
    for name in (bot.index.chunk_collection, bot.index.sentence_collection):
        configuration = bot.index.client.get_collection(name).configuration
        assert configuration["hnsw"]["space"] == "cosine", name


def test_dense_scores_are_cosine_similarities(bot):
    # The scores Chroma returns must be the cosine of the unit vectors (1 - cosine distance).
    from assistant.embeddings import embed_query

    vector = embed_query(bot.embeddings, "Which foods reduce inflammation?")
    scores = bot.index.nearest(vector, 6)
    assert len(scores) == 6
    stored = bot.index.client.get_collection(bot.index.chunk_collection).get(ids=list(scores), include=["embeddings"])
    for cid, embedding in zip(stored["ids"], stored["embeddings"], strict=True):
        assert float(np.dot(vector, embedding)) == pytest.approx(scores[cid], abs=1e-4), cid
    assert max(scores, key=scores.get) == "hip-pain-from-running/role-nutrition/1-anti-inflammatory-foods"


def test_vectors_in_memory_give_the_same_scores_as_the_index(bot):
    # Dense search runs on the chunk vectors held in memory (and on them alone while the index is away):
    # the same chunks in the same order, the same cosines, as Chroma's search.
    from assistant.embeddings import embed_query

    for question in ("Which foods reduce inflammation?", "can I keep running through it", "cortisone shot"):
        vector = embed_query(bot.embeddings, question)
        chroma = bot.index.nearest(vector, 8)
        memory = bot.ranker.memory.nearest(vector, 8)
        assert list(memory) == list(chroma), question
        assert list(memory.values()) == pytest.approx(list(chroma.values()), abs=1e-4)


def test_a_question_searches_the_index_itself_once_per_check_interval(bot, monkeypatch):
    # The index is searched by the first question after each `index_check_seconds`, the others use memory.
    from assistant.embeddings import embed_query

    searched: list[int] = []
    search = bot.index.nearest
    monkeypatch.setattr(bot.index, "nearest", lambda vector, k: searched.append(k) or search(vector, k))
    monkeypatch.setattr(bot.ranker, "_searched_at", time.monotonic())
    vector = embed_query(bot.embeddings, "Which foods reduce inflammation?")
    first, away = bot.ranker.dense_scores(vector, 5)
    assert searched == [] and away is False
    bot.ranker._searched_at -= bot.settings.index_check_seconds
    again, away = bot.ranker.dense_scores(vector, 5)
    assert searched == [5] and away is False
    assert list(again) == list(first) and list(again.values()) == pytest.approx(list(first.values()), abs=1e-4)
    bot.ranker.dense_scores(vector, 5)
    assert searched == [5]


def test_corpus_edit_makes_index_stale_and_new_assistant_rebuilds(work, work_bot):
    path = work.corpus_dir / "hip-pain-from-running.txt"
    text = path.read_text(encoding="utf-8")
    new_faq = (
        "Q: Does a sauna help stiff hips after running? A: A short sauna session after an easy run can "
        "loosen stiff hip muscles. Drink water afterwards.\n\n"
    )
    path.write_text(text.replace("In conclusion,", new_faq + "In conclusion,"), encoding="utf-8")

    reasons = fresh_index(work).stale_reasons()
    assert reasons and any("corpus" in r for r in reasons), reasons

    rebuilt = Assistant(work)
    chunks, n_sentences = parsed(work)
    assert rebuilt.manifest.chunks == len(chunks) == len(work_bot.chunks) + 1
    assert rebuilt.manifest.sentences == n_sentences
    assert rebuilt.index.stale_reasons() == []

    docs = rebuilt.retrieve("Is a sauna good for tight hips?", k=3)
    ranked = [(d.id, d.metadata["dense"], d.metadata["lexical"]) for d in docs]
    dense = rebuilt.index.nearest(embed_query(rebuilt.embeddings, "Is a sauna good for tight hips?"), 50)
    assert "sauna" in docs[0].page_content, (ranked, sorted(dense.items(), key=lambda kv: -kv[1])[:3], len(dense))
    assert docs[0].metadata["section"] == "FAQs"
    answer = rebuilt.ask("Is a sauna good for tight hips?")
    assert not answer.abstained
    assert "sauna session" in answer.text
    assert any("sauna" in c.text for c in answer.citations)
