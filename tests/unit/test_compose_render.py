"""Answer composition and rendering on the parsed article, with fake vectors: shapes, markers, quotes, HTML."""

from __future__ import annotations

import functools
import operator
import re

import numpy as np
import pytest
from fixtures.common import HEADINGS, SECTION_TREATMENT, split_answer

from assistant import grounding, plain
from assistant.answer import Answer, Citation, render_plan, strip_markers, with_marker
from assistant.compose import Plan, article_sections
from assistant.render import render_answer


@pytest.fixture(scope="module")
def sections(documents):
    return {s.title: s for s in article_sections(documents)}


def composed(plan, table, documents, fake_embeddings, question="how do I treat hip pain?") -> Answer:
    vector = np.asarray(fake_embeddings.embed_query(question), dtype=np.float32)
    return functools.reduce(operator.add, render_plan(plan, vector / np.linalg.norm(vector), table, documents))


def test_a_list_answer_has_one_cited_bullet_per_item_quoting_the_article(
    sections, table, documents, fake_embeddings, article_text
):
    treatment = sections[SECTION_TREATMENT]
    plan = Plan("list", sections=(SECTION_TREATMENT,), chunks=(*treatment.leads, *treatment.items))
    answer = composed(plan, table, documents, fake_embeddings)
    bullets = re.findall(r"^- \*\*(.+?)\*\*: ", answer.text, re.MULTILINE)
    assert bullets == [documents[c].metadata["title"] for c in treatment.items]
    assert [i.chunk_id for i in answer.items] == list(treatment.items)
    assert sorted(c.marker for c in answer.citations) == list(range(1, len(plan.chunks) + 1))
    for citation in answer.citations:
        assert citation.text == article_text[citation.start : citation.end]
        assert citation.quotes and all(q in citation.text for q in citation.quotes)
    assert split_answer(answer.text)  # every sentence ends in its marker


def test_a_summary_has_one_bullet_per_section_and_closes_with_the_conclusion(
    sections, table, documents, fake_embeddings
):
    plan = Plan(
        "summary",
        sections=tuple(sections),
        chunks=tuple(s.leads[0] if s.leads else s.items[0] for s in sections.values()),
    )
    answer = composed(plan, table, documents, fake_embeddings, "what is the article about?")
    titles = [i.title for i in answer.items]
    assert set(HEADINGS) <= set(titles)
    assert titles[-1] == "Conclusion"


def test_markers_survive_the_sentence_end_and_strip_cleanly():
    assert with_marker("Rest is key.", 3) == "Rest is key [3]."
    assert strip_markers("Rest is key [3]. Ice helps [4].") == "Rest is key. Ice helps."


def test_grounding_rejects_a_changed_number_or_an_invented_name(article_text):
    sentence = next(s for s in re.split(r"(?<=[.!?])\s+", article_text) if "10%" in s)
    assert grounding.is_supported(sentence, article_text)
    assert not grounding.is_supported(sentence.replace("10%", "25%"), article_text)
    assert not grounding.is_supported("Nike shoes cure hip pain.", article_text)


def test_pieces_add_up_and_round_trip_through_json(documents):
    doc = documents[next(iter(documents))]
    citation = Citation(
        1, doc.metadata["chunk_id"], doc.metadata["section"], doc.page_content, quotes=(doc.page_content[:20],)
    )
    whole = (
        Answer(answerer="extractive", shape="specific")
        + Answer(text="One [1].", citations=[citation])
        + Answer(text=" Two [1].", citations=[citation])
    )
    assert whole.text == "One [1]. Two [1]." and len(whole.citations) == 1 and whole.answerer == "extractive"
    assert Answer.from_dict(whole.to_dict()) == whole


def test_the_page_escapes_what_it_shows_and_links_each_marker(documents):
    doc = documents[next(iter(documents))]
    citation = Citation(1, doc.metadata["chunk_id"], doc.metadata["section"], doc.page_content)
    answer = Answer(text="Use <b>ice</b> [1].", citations=[citation], notice="<script>x</script>")
    html = render_answer(answer, key="k1")
    assert "<b>ice</b>" not in html and "&lt;b&gt;ice&lt;/b&gt;" in html
    assert "<script>" not in html
    assert 'href="#' in html and "k1" in html
    text = plain.answer_text(answer)
    assert text.splitlines()[0] == "(<script>x</script>)" and "[1]" in text


def test_a_referral_whose_criteria_the_answer_lists_keeps_only_its_heading_and_disclaimer():
    from assistant.answer import Referral, ReferralCriterion
    from assistant.render import render_referral

    criterion = ReferralCriterion("severe_pain", "Severe Pain", "Intense pain ...", "a/b/c", "When to Seek Help")
    folded = Referral("care", "When to see a professional", (criterion,), None, "Not a diagnosis.", in_answer=True)
    assert folded.text == "When to see a professional\nNot a diagnosis."
    html = render_referral(folded)
    assert "When to see a professional" in html and "Not a diagnosis." in html
    assert "<ul>" not in html and "Intense pain" not in html
    assert Referral.from_dict(folded.to_dict()) == folded
    shown = Referral("care", "When to see a professional", (criterion,), None, "Not a diagnosis.")
    assert "Intense pain" in shown.text and "<ul>" in render_referral(shown)


def test_a_question_splits_into_parts_whatever_the_case_of_its_and():
    from assistant.compose.words import PART_BREAK

    parts = [p for p in PART_BREAK.split("how do i keep my head right AND what should i be doing to heal it") if p]
    assert parts == ["how do i keep my head right", "what should i be doing to heal it"]
