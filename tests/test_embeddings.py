"""The embedding backends: ONNX Runtime (default) must give the PyTorch vectors and rankings."""

from __future__ import annotations

import logging

import numpy as np
from fixtures.common import load_jsonl
from langchain_huggingface import HuggingFaceEmbeddings

from assistant.embeddings import OnnxEmbeddings, embed_query, embed_texts, load_embeddings


def test_default_backend_is_onnx(bot):
    assert isinstance(bot.embeddings, OnnxEmbeddings)


def test_onnx_and_torch_give_the_same_vectors_and_rankings(bot):
    questions = [r["question"] for r in load_jsonl("questions_dev.jsonl")]
    torch_emb = load_embeddings(backend="torch")
    assert isinstance(torch_emb, HuggingFaceEmbeddings)
    a, b = embed_texts(bot.embeddings, questions), embed_texts(torch_emb, questions)
    assert a.shape == b.shape == (len(questions), 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    for q, va, vb in zip(questions, a, b, strict=True):
        ranked = [h.chunk_id for h in bot.ranker.rank(q, va, k=4)]
        assert ranked == [h.chunk_id for h in bot.ranker.rank(q, vb, k=4)], q


def test_text_longer_than_the_model_window_is_truncated_the_same_way(bot):
    long = "hip pain after long runs " * 200
    torch_emb = load_embeddings(backend="torch")
    assert np.abs(embed_query(bot.embeddings, long) - embed_query(torch_emb, long)).max() < 1e-5


def test_onnx_falls_back_to_torch_with_a_warning_when_it_cannot_export(tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the models folder should be")
    with caplog.at_level(logging.WARNING, logger="assistant.embeddings"):
        emb = load_embeddings(backend="onnx", models_dir=blocked)
    assert isinstance(emb, HuggingFaceEmbeddings)
    assert any("using PyTorch" in r.getMessage() for r in caplog.records)


def test_fast_tokenizer_gives_the_transformers_ids(bot):
    """The ONNX backend tokenizes with `tokenizers` alone (no transformers import at start); the ids, masks
    and type ids must be those of the transformers tokenizer it replaces, padding and truncation included."""
    from transformers import AutoTokenizer

    from assistant.embeddings import model_path

    path = model_path(bot.settings.embedding_model)
    reference = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    questions = [row["question"] for row in load_jsonl("questions_dev.jsonl")][:40]
    texts = [
        *questions,
        "Naïve café — “quotes” 38.7°C, f\u0435ver",
        "word " * 400,
        "",
        "tinglyness   down\tthe leg\n\nnext line",
        "日本語 🏃‍♀️",
    ]
    want = reference(texts, padding=True, truncation=True, max_length=bot.embeddings.max_length, return_tensors="np")
    got = bot.embeddings.tokenizer.encode_batch(texts)
    for key, attribute in (("input_ids", "ids"), ("attention_mask", "attention_mask"), ("token_type_ids", "type_ids")):
        assert np.array_equal(want[key], np.array([getattr(e, attribute) for e in got])), key
