"""Parsing the article (and a Markdown file) into citable chunks with exact spans."""

from __future__ import annotations

import re
import shutil

import pytest
from fixtures.common import HEADINGS

from assistant import nlp
from assistant.corpus import corpus_hash, load_corpus, parse_text

NUMBERED_SECTIONS = HEADINGS[:6]
ITEM_COUNTS = [6, 6, 8, 4, 3, 4]


@pytest.fixture(scope="module")
def doc(helpers):
    docs = load_corpus(helpers.CORPUS_DIR)
    assert len(docs) == 1
    return docs[0]


def _section_bodies(raw: str) -> dict[str, str]:
    """The raw text under each heading, found with plain string search (not the module's parser)."""
    bodies = {}
    lines = raw.split("\n")
    heading_lines = {h: lines.index(h) for h in HEADINGS}
    ordered = sorted(heading_lines.items(), key=lambda kv: kv[1])
    for (heading, at), nxt in zip(ordered, [*ordered[1:], (None, len(lines))], strict=True):
        bodies[heading] = "\n".join(lines[at + 1 : nxt[1]])
    return bodies


def _expected_items(raw: str) -> dict[str, list[str]]:
    bodies = _section_bodies(raw)
    return {s: re.findall(r"(?m)^[ \t]*\d+\.[ \t]+([^:\n]+):", bodies[s]) for s in NUMBERED_SECTIONS}


def _expected_faq_questions(raw: str) -> list[str]:
    return re.findall(r"(?m)^Q:[ \t]*(.+?)[ \t]+A:[ \t]", raw)


def test_title_found_and_duplicate_title_skipped(doc, article_text):
    first_line = article_text.split("\n", 1)[0].strip()
    assert doc.title == first_line
    # The file repeats the title line; neither copy is content.
    second = article_text.index(first_line, len(first_line))
    assert second > 0
    assert all(c.start > second for c in doc.chunks)
    assert not any(first_line in c.text for c in doc.chunks)
    assert doc.chunks[0].text.startswith("Running is a fantastic way")


def test_sections_in_reading_order(doc, article_text):
    for heading in HEADINGS:
        assert f"\n{heading}\n" in article_text  # the expectation itself is a fact of the file
    assert doc.sections == ["Introduction", *HEADINGS, "Conclusion"]
    # Chunks of one section are contiguous and in file order.
    order = [c.section for c in doc.chunks]
    assert [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s] == doc.sections
    starts = [c.start for c in doc.chunks]
    assert starts == sorted(starts)


def test_every_content_block_is_exactly_one_chunk(doc, article_text):
    blocks = [b.strip() for b in re.split(r"\n[ \t]*\n", article_text) if b.strip()]
    content = [b for b in blocks if b != doc.title and b not in HEADINGS]
    expected = [re.sub(r"^\d+\.\s+", "", b) for b in content]
    assert [c.text for c in doc.chunks] == expected


@pytest.mark.parametrize(("section", "count"), list(zip(NUMBERED_SECTIONS, ITEM_COUNTS, strict=True)))
def test_numbered_items_per_section(doc, article_text, section, count):
    expected_titles = _expected_items(article_text)[section]
    assert len(expected_titles) == count  # the regex agrees with the article's 6+6+8+4+3+4
    items = [c for c in doc.chunks if c.section == section and c.kind == "item"]
    assert [c.title for c in items] == [t.strip() for t in expected_titles]
    for item in items:
        assert item.text.startswith(item.title + ":")


def test_item_totals_and_kinds(doc):
    kinds = [c.kind for c in doc.chunks]
    assert kinds.count("item") == sum(ITEM_COUNTS)
    assert kinds.count("faq") == 5
    assert {c.kind for c in doc.chunks} == {"paragraph", "item", "faq"}
    # Only the FAQ section holds FAQ chunks, and it holds nothing else.
    assert {c.section for c in doc.chunks if c.kind == "faq"} == {"FAQs"}
    assert {c.kind for c in doc.chunks if c.section == "FAQs"} == {"faq"}


def test_all_faq_pairs_found_with_questions(doc, article_text):
    questions = _expected_faq_questions(article_text)
    assert len(questions) == 5
    faqs = [c for c in doc.chunks if c.kind == "faq"]
    assert [c.title for c in faqs] == questions
    for faq, question in zip(faqs, questions, strict=True):
        assert faq.text.startswith(f"Q: {question} A: ")


def test_chunk_text_is_exact_source_slice(doc, article_text):
    assert doc.text == article_text
    for c in doc.chunks:
        assert article_text[c.start : c.end] == c.text
        assert c.text == c.text.strip()
        assert c.source == "hip-pain-from-running.txt"


def test_sentence_spans_inside_chunk_and_exact(doc, article_text):
    for c in doc.chunks:
        assert c.sentences, f"{c.id} has no answerable sentence"
        previous_end = c.start
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end, c.id
            assert s >= previous_end, f"{c.id}: overlapping or unordered sentences"
            previous_end = e
            sentence = article_text[s:e]
            assert sentence == sentence.strip()
            assert sentence in c.text


def _answerable_body(chunk, text: str) -> str:
    if chunk.kind == "faq":
        return text[text.index(" A: ", chunk.start) + 4 : chunk.end]
    if chunk.kind == "item":
        return text[chunk.start + len(chunk.title) + 1 : chunk.end]
    return chunk.text


def test_sentences_cover_the_answerable_body(doc, article_text):
    for c in doc.chunks:
        joined = " ".join(article_text[s:e] for s, e in c.sentences)
        assert joined.split() == _answerable_body(c, article_text).split(), c.id


def test_faq_sentences_start_in_the_answer(doc, article_text):
    for c in (c for c in doc.chunks if c.kind == "faq"):
        answer_start = article_text.index(" A: ", c.start) + len(" A: ")
        assert answer_start < c.end
        assert c.sentences[0][0] == answer_start
        for s, e in c.sentences:
            quoted = article_text[s:e]
            assert "Q:" not in quoted and "A:" not in quoted
            assert c.title not in quoted


def test_item_sentences_exclude_title_prefix(doc, article_text):
    for c in (c for c in doc.chunks if c.kind == "item"):
        assert c.sentences[0][0] > c.start + len(c.title)
        for s, e in c.sentences:
            assert not article_text[s:e].startswith(c.title + ":"), c.id


def test_ids_unique_readable_and_stable(doc, helpers):
    ids = [c.id for c in doc.chunks]
    assert len(ids) == len(set(ids))
    for cid in ids:
        assert re.fullmatch(r"hip-pain-from-running/[a-z0-9-]+/[a-z0-9-]+", cid), cid
    assert "hip-pain-from-running/treatment-options/1-rest-and-ice" in ids
    assert "hip-pain-from-running/introduction/p1" in ids
    again = load_corpus(helpers.CORPUS_DIR)[0]
    assert [c.id for c in again.chunks] == ids
    assert again.chunks == doc.chunks


MARKDOWN = """# Knee Care for Cyclists

Cycling is gentle on the joints. Still, knees can ache when the bike fit is wrong.

## Saddle Setup

1. Saddle Height: Set the saddle so the knee stays slightly bent. Check it every month.
2. Cleat Position: Align the cleats with the natural angle of your feet.
3) Crank Length: Shorter cranks reduce how far the knee bends.

## Questions

Q: Should I stretch after a ride?

A: Yes, gentle stretching helps. Hold each stretch briefly.

In conclusion, a good fit prevents most knee pain.
"""


def test_markdown_file_is_its_own_document(tmp_path, helpers):
    corpus = helpers.copy_corpus(tmp_path / "corpus")
    (corpus / "knee-care.md").write_text(MARKDOWN, encoding="utf-8")
    docs = load_corpus(corpus)
    assert [d.source for d in docs] == ["hip-pain-from-running.txt", "knee-care.md"]
    md = docs[1]
    assert md.title == "Knee Care for Cyclists"
    assert md.sections == ["Introduction", "Saddle Setup", "Questions", "Conclusion"]
    for c in md.chunks:
        assert MARKDOWN[c.start : c.end] == c.text
        assert c.id.startswith("knee-care/")
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end

    items = [c for c in md.chunks if c.kind == "item"]
    assert [c.title for c in items] == ["Saddle Height", "Cleat Position", "Crank Length"]
    # A tight list: each item is its own chunk, not one block of three lines.
    assert all("\n" not in c.text for c in items)
    assert [c.id for c in items] == [
        "knee-care/saddle-setup/1-saddle-height",
        "knee-care/saddle-setup/2-cleat-position",
        "knee-care/saddle-setup/3-crank-length",
    ]
    assert [MARKDOWN[s:e] for s, e in items[0].sentences] == [
        "Set the saddle so the knee stays slightly bent.",
        "Check it every month.",
    ]

    (faq,) = [c for c in md.chunks if c.kind == "faq"]
    assert faq.section == "Questions"
    assert faq.title == "Should I stretch after a ride?"
    assert faq.text.startswith("Q: Should I stretch after a ride?") and faq.text.endswith("briefly.")
    assert [MARKDOWN[s:e] for s, e in faq.sentences] == ["Yes, gentle stretching helps.", "Hold each stretch briefly."]

    intro = [c for c in md.chunks if c.section == "Introduction"]
    assert [c.kind for c in intro] == ["paragraph"] and len(intro[0].sentences) == 2
    conclusion = [c for c in md.chunks if c.section == "Conclusion"]
    assert [c.text for c in conclusion] == ["In conclusion, a good fit prevents most knee pain."]
    # The article parses the same with or without the new file.
    assert docs[0].chunks == load_corpus(helpers.CORPUS_DIR)[0].chunks


def test_markdown_bullet_items_are_content(tmp_path):
    text = "# Guide\n\n## Quick Tips\n\n- Ice the sore hip\n- Rest for a few days\n- See a physio if it persists.\n"
    doc = parse_text(text, "guide.md")
    chunk_texts = " ".join(c.text for c in doc.chunks)
    assert "Ice the sore hip" in chunk_texts
    assert "Rest for a few days" in chunk_texts
    assert all(not s.startswith("- ") for s in doc.sections)


def test_chunk_ids_unique_across_files(tmp_path):
    (tmp_path / "guide.txt").write_text("Guide\n\nRunning can hurt the hip. Rest helps.\n", encoding="utf-8")
    (tmp_path / "guide.md").write_text("# Guide\n\nCycling can hurt the knee. Rest helps.\n", encoding="utf-8")
    ids = [c.id for d in load_corpus(tmp_path) for c in d.chunks]
    assert len(ids) == 2
    assert len(set(ids)) == len(ids), ids


def test_corpus_hash_tracks_file_changes(tmp_path, helpers):
    corpus = helpers.copy_corpus(tmp_path / "corpus")
    original = corpus_hash(corpus)
    assert corpus_hash(corpus) == original
    assert corpus_hash(helpers.CORPUS_DIR) == original  # name and bytes, not the folder path

    path = corpus / helpers.ARTICLE.name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("15-20 minutes", "10-15 minutes"), encoding="utf-8")
    edited = corpus_hash(corpus)
    assert edited != original

    (corpus / "notes.md").write_text("# Notes\n\nExtra text.\n", encoding="utf-8")
    assert corpus_hash(corpus) not in (original, edited)
    (corpus / "notes.md").unlink()
    assert corpus_hash(corpus) == edited

    (corpus / "ignored.json").write_text("{}", encoding="utf-8")  # not a corpus file
    assert corpus_hash(corpus) == edited

    shutil.copy2(helpers.ARTICLE, path)
    assert corpus_hash(corpus) == original


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in nlp.sentence_spans(text)]


def test_sentence_spans_abbreviations_and_real_ends():
    text = "Use a cold pack, e.g. frozen peas, on the hip. Rest helps."
    assert _sentences(text) == ["Use a cold pack, e.g. frozen peas, on the hip.", "Rest helps."]
    text = "Ice the hip, e.g. Monday and Friday. Then rest."
    assert _sentences(text) == ["Ice the hip, e.g. Monday and Friday.", "Then rest."]
    text = "The first line of defense against hip pain is rest. Avoid activities that hurt."
    assert _sentences(text) == ["The first line of defense against hip pain is rest.", "Avoid activities that hurt."]
    assert _sentences("Is it bad? Yes! Stop running.") == ["Is it bad?", "Yes!", "Stop running."]
    assert _sentences("Raise mileage by 10% a week. 2.5 km is plenty.") == [
        "Raise mileage by 10% a week.",
        "2.5 km is plenty.",
    ]


def test_sentence_spans_are_absolute_offsets():
    text = "Intro. Rest first. Then ice it."
    start = text.index("Rest")
    spans = nlp.sentence_spans(text, start, len(text))
    assert [text[s:e] for s, e in spans] == ["Rest first.", "Then ice it."]
    assert spans[0][0] == start


def test_sentence_ending_in_no_is_split():
    assert _sentences("Should I run through the pain? The answer is no. Rest first.") == [
        "Should I run through the pain?",
        "The answer is no.",
        "Rest first.",
    ]
