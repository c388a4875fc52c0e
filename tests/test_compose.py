"""Answer shapes: lists, summaries, definitions and specific answers, on the real article and model."""

from __future__ import annotations

import functools
import operator
from types import SimpleNamespace

import pytest
from langchain_core.documents import Document

from assistant.answer import strip_markers, without_framing
from assistant.corpus import parse_text
from assistant.render import render_text
from evals import metrics

TREATMENT = "Treatment Options for Hip Pain from Running"
PREVENTION = "Prevention: The Best Medicine"


def items_of(bot, section: str) -> list[str]:
    return [
        cid
        for cid, d in bot.documents.items()
        if d.metadata["section"] == section and d.metadata.get("kind") in ("item", "faq")
    ]


def cited(answer) -> list[str]:
    return [c.chunk_id for c in answer.citations if f"[{c.marker}]" in answer.text]


def cited_names(answer) -> list[str]:
    """The cited chunks' last id parts ("6-orthotics"), in the answer's order."""
    return [c.chunk_id.rsplit("/", 1)[1] for c in answer.citations]


@pytest.fixture(scope="module")
def relieve(bot):
    return bot.ask("How do I relieve hip pain from running?")


def test_title_question_lists_every_treatment_option_each_cited(bot, relieve, sources_check):
    assert relieve.shape == "list" and not relieve.abstained
    treatment = items_of(bot, TREATMENT)
    assert len(treatment) == 8
    assert set(treatment) <= set(cited(relieve))
    # One bullet per item, in the article's order, each with its own marker and the item's title.
    listed = [i.chunk_id for i in relieve.items]
    assert [c for c in listed if c in treatment] == treatment
    markers = [i.marker for i in relieve.items]
    assert len(set(markers)) == len(markers)
    for item in relieve.items:
        title = bot.documents[item.chunk_id].metadata["title"]
        assert f"- **{title}**: {item.text}" in relieve.text
    sources_check(relieve)


def test_prevention_question_lists_all_six_strategies(bot):
    answer = bot.ask("How can I prevent hip pain?")
    assert answer.shape == "list"
    assert set(items_of(bot, PREVENTION)) <= set(cited(answer))
    assert answer.text.count("\n- **") == 6


@pytest.mark.parametrize(
    ("question", "section"),
    [
        # The asking word picks the section, not a word of the subject ("caused by running").
        ("how do you fix hip pain caused by running?", TREATMENT),
        ("how do i stop getting hip pain every time my training picks up", PREVENTION),
        # Not getting it, or keeping it that way, is prevention.
        ("how to not get hip pain when I run, give me all the ways", PREVENTION),
        # "options" is how the question asks, not the "Treatment Options" it names.
        ("What are my options for preventing hip pain as a runner?", PREVENTION),
    ],
)
def test_everyday_asking_words_pick_the_section(bot, question, section):
    answer = bot.ask(question)
    assert answer.shape == "list"
    assert set(items_of(bot, section)) <= set(cited(answer))


def test_list_lead_in_announces_the_list_and_keeps_its_caveats(relieve):
    first_line = relieve.text.split("\n")[0]
    assert first_line.endswith("]:"), first_line
    # Bullets never drop the caveat the article attaches to a treatment.
    assert "However, these should be used sparingly" in relieve.text
    assert "This should be done under the supervision of a healthcare provider" in relieve.text


@pytest.mark.parametrize(
    "question",
    [
        "Summarize the article",
        "What is the article about?",
        # The article's own topic words pull these towards its passages; the request is still a summary.
        "tl;dr of this hip pain from running piece",
        "key takeaways of the guide on hip pain when running?",
        # Words that name no topic ("dealing with", "read the whole thing") around the summary words.
        "In a nutshell, what does the article say about dealing with hip pain from running?",
        "I don't have time to read the whole thing - what are the highlights?",
        # Words that only ask ("pls", "gimme", "what do I need to know") and a form of a topic word ("runners").
        "recap for runners with hip pain pls, what do I need to know?",
        "gimme the short version of the article",
    ],
)
def test_summary_gives_one_cited_bullet_per_section(bot, question, sources_check):
    answer = bot.ask(question)
    assert answer.shape == "summary" and not answer.abstained
    sections = list(dict.fromkeys(d.metadata["section"] for d in bot.documents.values()))
    wanted = [s for s in sections if s != "Introduction"]
    assert [i.title for i in answer.items] == wanted
    assert {c.section for c in answer.citations} == set(wanted)
    assert answer.items[-1].title == "Conclusion"
    # Each bullet names what its section holds: the items, or the questions the FAQ answers.
    for item in answer.items[:-1]:
        held = [d.metadata["title"] for d in bot.documents.values() if d.metadata["section"] == item.title]
        assert list(item.subtitles) == [t for t in held if t], item.title
    sources_check(answer)


CAUSES = "Understanding the Causes of Hip Pain from Running"


@pytest.mark.parametrize(
    ("question", "section"),
    [("what are the main causes of hip pain from running", CAUSES), ("Summarize the FAQ section", "FAQs")],
)
def test_a_topic_word_beside_a_summary_word_keeps_its_section(bot, question, section):
    """ "Main causes" asks for the causes, "summarize the FAQ section" for the FAQ: not the whole article."""
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    assert {c.section for c in answer.citations} == {section}


def test_a_part_naming_one_item_beside_a_part_asking_for_a_list_gets_both(bot, sources_check):
    answer = bot.ask(
        "What treatments are there for running-related hip pain, and how do I stay positive while I recover?"
    )
    assert answer.shape == "list"
    assert set(cited(answer)) >= {
        *items_of(bot, TREATMENT),
        "hip-pain-from-running/psychological-aspect/1-stay-positive",
    }
    sources_check(answer)


def test_a_two_part_question_lists_both_sections_the_whole_questions_first(bot, sources_check):
    answer = bot.ask("What causes hip pain from running, and how do I stop it coming back?")
    assert answer.shape == "list"
    assert set(cited(answer)) >= {*items_of(bot, CAUSES), *items_of(bot, PREVENTION)}
    sections = [c.section for c in answer.citations]
    assert sections.index(CAUSES) < sections.index(PREVENTION)
    sources_check(answer)
    # "What should I do" is answered by the treatment options first, whatever else the question names.
    answer = bot.ask("my hip hurts after running, what should I do?")
    assert answer.shape == "list" and answer.citations[0].section == TREATMENT
    assert set(cited(answer)) >= set(items_of(bot, TREATMENT))


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("Summarize the FAQ section", "FAQs"),
        ("Sum up the part about nutrition", "The Role of Nutrition in Hip Pain Recovery"),
    ],
)
def test_a_summary_of_one_section_lists_that_section(bot, question, section, sources_check):
    answer = bot.ask(question)
    assert answer.shape == "list" and not answer.abstained
    assert {c.section for c in answer.citations} == {section}
    assert set(cited(answer)) >= set(items_of(bot, section))
    sources_check(answer)


def test_definition_is_answered_with_the_sentence_that_names_the_term(bot):
    answer = bot.ask("What is overstriding and why does it matter?")
    assert not answer.abstained and answer.shape == "definition"
    assert "overstriding" in answer.text
    assert cited(answer) == ["hip-pain-from-running/understanding-causes/3-poor-running-form"]


def test_a_definition_quotes_the_passage_naming_the_rare_term_not_a_common_word(bot):
    """The word "keep" is also in the mindset advice ("keep yourself motivated"); the term asked about is "band"."""
    answer = bot.ask("whats the IT band thing people keep mentioning?")
    assert answer.shape == "definition" and "IT band" in answer.text
    assert cited(answer) == ["hip-pain-from-running/faqs/q3-specific-stretches-hip-pain-running"]


@pytest.mark.parametrize(
    "question",
    [
        "I can't walk because of the hip pain",
        "How long should I ice my hip?",
        "Can I keep running with hip pain?",
        "Which muscles are involved in hip pain from running?",
    ],
)
def test_specific_answers_stay_short_and_are_not_padded_with_framing(bot, question):
    answer = bot.ask(question)
    assert answer.shape == "specific"
    framing = {cid for cid, d in bot.documents.items() if d.metadata.get("role") == "framing"}
    assert not set(cited(answer)) & framing, answer.text
    assert "In conclusion" not in answer.text
    assert len(answer.citations) <= 3


@pytest.mark.parametrize(
    ("question", "item"),
    [
        (
            "what can I do to optimize my running form so my hips stop hurting",
            "prevention-best-medicine/3-optimize-your-running-form",
        ),
        ("how do I stay positive while I'm injured", "psychological-aspect/1-stay-positive"),
        # "Strengthen Your Hip Muscles" named without its third word; it was the treatment list before.
        ("how do I strengthen my hips for running?", "prevention-best-medicine/1-strengthen-your-hip-muscles"),
    ],
)
def test_a_question_that_names_one_listed_item_gets_that_item_not_the_list(bot, question, item):
    answer = bot.ask(question)
    assert answer.shape == "specific", answer.text
    assert cited(answer)[0] == f"hip-pain-from-running/{item}", answer.text
    assert len(answer.citations) <= 2


def test_a_sentence_that_names_its_subject_as_these_is_given_under_its_items_title(bot):
    """ "Skipping these essential parts of your running routine ..." alone does not say what "these" are."""
    answer = bot.ask("i usually skip warmups, does that matter for my hips?")
    assert answer.text.startswith("**Inadequate Warm-Up or Cool-Down**: Skipping these essential parts"), answer.text
    good, n = metrics.faithfulness(answer)
    assert n and good == n
    # A sentence that names its own subject is not labelled.
    plain = bot.ask("is foam rolling good for hip pain?")
    assert not plain.text.startswith("**"), plain.text


def test_sections_that_tie_are_both_listed(bot):
    """ "when I run, what should I do?" scores the causes and the treatment options within 0.01: it gets both,
    not the causes alone (before) and not a guess."""
    answer = bot.ask("my hip hurts when I run, what should I do?")
    assert answer.shape == "list", answer.text
    assert set(cited(answer)) >= set(items_of(bot, "Treatment Options for Hip Pain from Running")), answer.text


def test_a_faq_question_is_not_named_by_most_of_its_words(bot):
    """ "the best way to prevent hip pain" shares all but "shoes" with the FAQ on the best shoes: it asks for the
    prevention strategies, not the shoes."""
    answer = bot.ask("whats the best way to prevent hip pain when running")
    assert answer.shape == "list", answer.text
    assert set(cited(answer)) >= set(items_of(bot, "Prevention: The Best Medicine"))


def test_a_question_sure_to_want_a_list_keeps_it_when_one_item_only_ranks_ahead(bot):
    """Support ranks ahead of the other two by 0.1, but the question asks for every way of coping."""
    answer = bot.ask("How do I deal with the mental side of being sidelined by a hip injury?")
    assert answer.shape == "list", answer.text
    assert set(cited(answer)) >= set(items_of(bot, "The Psychological Aspect of Hip Pain"))


def test_a_list_worded_question_that_one_items_own_questions_ask_gets_that_item(bot):
    answer = bot.ask("What low-impact activities can I do to stay fit while my hip heals?")
    assert answer.shape == "specific", answer.text
    assert cited(answer) == ["hip-pain-from-running/treatment-options/5-cross-training"]


def test_a_list_question_that_is_one_items_own_question_gets_that_item_whole(bot):
    """Rest and ice ranks only 0.07 ahead of cross-training, but the question is its own (0.91): the answer is
    rest *and* ice, both of its sentences, not the treatment list and not its first sentence alone."""
    answer = bot.ask("whats the first thing to do when my hip starts hurting")
    assert answer.shape == "specific", answer.text
    assert cited(answer) == ["hip-pain-from-running/treatment-options/1-rest-and-ice"], answer.text
    assert "first line of defense" in answer.text and "15-20 minutes" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "what does the article say about shoes?",
        # "know" asks what the article says; it was read as a topic word and three whole sections were listed.
        "everything i should know about shoes and hip pain",
    ],
)
def test_what_the_article_says_on_a_topic_lists_every_passage_naming_it_across_sections(bot, sources_check, question):
    """Shoes are a cause, a prevention strategy and a FAQ: the prevention list alone left two out."""
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    assert set(cited(answer)) == {
        "hip-pain-from-running/understanding-causes/6-footwear",
        "hip-pain-from-running/prevention-best-medicine/6-choose-the-right-footwear",
        "hip-pain-from-running/faqs/q5-best-shoes-preventing-hip-pain",
    }
    assert all("shoe" in c.text.lower() for c in answer.citations)
    assert len(answer.items) == 3 and not answer.text.startswith("Here are")
    sources_check(answer)


@pytest.mark.parametrize(
    ("question", "shape", "expected"),
    [
        ("what does it say about ice?", "specific", "hip-pain-from-running/treatment-options/1-rest-and-ice"),
        ("what does it say about treatment?", "list", "hip-pain-from-running/treatment-options/8-surgery"),
    ],
)
def test_a_topic_in_one_passage_or_a_sections_title_is_not_a_topic_list(bot, question, shape, expected):
    """One passage is a specific answer, a section's own subject its list."""
    answer = bot.ask(question)
    assert answer.shape == shape, answer.text
    assert expected in cited(answer)


def test_words_the_article_never_uses_are_no_topic_of_it(bot):
    from assistant import nlp

    question = "In a nutshell, how does the article say to handle hip pain?"
    assert bot.composer._topic(question, frozenset(nlp.stems(question))) is None


@pytest.mark.parametrize(
    "question",
    [
        "List every treatment mentioned, from rest all the way to surgery.",
        "what are all the things that can help a sore running hip, pro stuff like physio and jabs included",
    ],
)
def test_items_named_as_examples_of_all_keep_the_whole_list(bot, question):
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    assert set(items_of(bot, TREATMENT)) <= set(cited(answer))


def test_an_item_named_only_to_rule_it_out_keeps_the_list(bot):
    answer = bot.ask("How can I treat my hip pain without pills, injections or surgery?")
    assert answer.shape == "list", answer.text


@pytest.mark.parametrize(
    ("question", "left_out"),
    [
        ("Aside from physical therapy, what other treatments are there?", "treatment-options/2-physical-therapy"),
        ("Other than numbness, what symptoms mean I should get my hip checked?", "4-numbness-or-tingling"),
    ],
)
def test_what_else_besides_a_named_item_is_the_rest_of_its_list(bot, question, left_out):
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    cited_ids = cited(answer)
    assert len(cited_ids) >= 3 and not any(c.endswith(left_out) for c in cited_ids), cited_ids


def hit(chunk_id: str, role: str, score: float):
    doc = Document(page_content="x", metadata={"chunk_id": chunk_id, "role": role})
    return SimpleNamespace(doc=doc, score=score, chunk_id=chunk_id)


def test_framing_leads_only_as_the_clear_best_and_never_pads():
    intro, item, other = hit("intro", "framing", 0.70), hit("item", "content", 0.69), hit("c2", "content", 0.5)
    # A framing chunk barely ahead of the best content chunk does not lead.
    assert [h.chunk_id for h in without_framing([intro, item, other], margin=0.05)] == ["item", "c2"]
    assert [h.chunk_id for h in without_framing([intro, item, other], margin=0.005)] == ["intro", "item", "c2"]
    # Behind content it never pads.
    assert [h.chunk_id for h in without_framing([item, intro, other], margin=0.0)] == ["item", "c2"]
    assert [h.chunk_id for h in without_framing([intro], margin=0.05)] == ["intro"]


def test_lists_stream_item_by_item_and_sum_to_ask(bot, relieve):
    pieces = list(bot.stream("How do I relieve hip pain from running?"))
    bullets = [p for p in pieces if p.items]
    assert len(bullets) == len(relieve.items)
    assert all(len(p.items) == 1 and p.text.lstrip("\n").startswith("- **") for p in bullets)
    total = functools.reduce(operator.add, pieces)
    assert total.text == relieve.text and total.items == relieve.items


def test_to_dict_carries_the_list_structure(relieve):
    data = relieve.to_dict()
    assert data["shape"] == "list"
    assert [i["marker"] for i in data["items"]] == [i.marker for i in relieve.items]
    assert all(set(i) >= {"marker", "title", "text", "chunk_id"} for i in data["items"])


def test_page_renders_bullets_as_a_list(relieve):
    html = render_text(relieve.text)
    assert html.count("<li>") == len(relieve.items)
    assert "**" not in html and "<strong>Rest and Ice</strong>" in html


def test_cli_prints_plain_bullets(helpers, index_dir):
    from fixtures.common import run_cli

    out = run_cli("ask", "How can I prevent hip pain?", index_dir=index_dir).stdout
    body = out.split("\nSources:")[0]
    assert sum(line.startswith("- ") for line in body.splitlines()) == 6
    assert "**" not in body


def test_framing_roles_come_from_the_structure(article_text):
    doc = parse_text(article_text, "hip-pain-from-running.txt")
    roles = {c.id.split("/", 1)[1]: c.role for c in doc.chunks}
    assert roles["introduction/p1"] == "framing"
    assert roles["conclusion/p1"] == "framing"
    assert roles["treatment-options/p1"] == "framing"
    assert roles["treatment-options/1-rest-and-ice"] == "content"
    assert all(c.role == "content" for c in doc.chunks if c.kind != "paragraph")
    # A prose section without a list keeps its paragraphs as content.
    prose = parse_text("Title\n\nSome Heading\n\nA paragraph that says something.\n", "x.txt")
    assert [c.role for c in prose.chunks] == ["content"]


@pytest.fixture(scope="module")
def sources_check(helpers):
    sources = {p.name: p.read_text(encoding="utf-8") for p in helpers.CORPUS_DIR.iterdir() if p.suffix == ".txt"}

    def check(answer) -> None:
        """Every sentence (bullet labels aside) is a marked verbatim quote of the chunk it cites."""
        by_marker = {c.marker: c for c in answer.citations}
        for body, _tail, marker in helpers.split_answer(answer.text):
            assert body in by_marker[marker].text, body
        for c in answer.citations:
            assert sources[c.source][c.start : c.end] == c.text
            assert all(q in c.text for q in c.quotes)
        assert strip_markers(answer.text)

    return check


@pytest.mark.parametrize(
    "question",
    [
        "I feel depressed that I can't run",
        "feeling down since I stopped running",
        "so gutted about my hip",
        "How can I deal with the frustration of not being able to run?",
        "how do i cope with not running",
        "Any strategies for the emotional side of being injured?",
    ],
)
def test_a_feeling_about_the_injury_gets_the_psychological_section(bot, question):
    """ "can't run" is as close to the treatment section's lead-in ("get back to running"); the feeling is the
    question. Everyday words for it are data (``synonyms.tsv``: depressed -> psychological)."""
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    assert {c.section for c in answer.citations} == {"The Psychological Aspect of Hip Pain"}, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "so frustrated, physio told me to take a break from running and im going a bit crazy lol. how do ppl cope",
        "honestly feeling kinda down. whole running club is training for the half and im stuck on the sidelines",
    ],
)
def test_coping_in_everyday_words_is_answered_from_the_psychological_section(bot, question):
    """These got the advice on running form and the treatment list."""
    answer = bot.ask(question)
    assert answer.citations and answer.citations[0].section == "The Psychological Aspect of Hip Pain", answer.text


@pytest.mark.parametrize(
    ("question", "chunk"),
    [
        ("do shoe inserts help with hip pain?", "hip-pain-from-running/treatment-options/6-orthotics"),
        ("Will a cortisone shot fix my hip?", "hip-pain-from-running/treatment-options/7-corticosteroid-injections"),
        ("can fish oil help my hip heal", "hip-pain-from-running/role-nutrition/1-anti-inflammatory-foods"),
        ("is it ok to keep running?", "hip-pain-from-running/faqs/q4-continue-running-hip-pain"),
    ],
)
def test_everyday_words_find_the_articles_passage(bot, question, chunk):
    answer = bot.ask(question)
    assert not answer.abstained
    assert chunk in cited(answer)


def test_synonyms_are_data_and_expand_only_whole_words():
    from assistant import nlp

    assert "orthotics" in nlp.expand("shoe inserts?")
    assert nlp.expand("shotgun") == "shotgun"
    assert all(pattern.pattern.startswith(r"\b") for pattern, _ in nlp.synonyms())


SEEK_HELP = "When to Seek Professional Help"


def test_when_to_see_a_doctor_is_answered_with_every_criterion_and_the_referral_does_not_repeat_them(bot):
    answer = bot.ask("when should I see a doctor about hip pain?")
    assert answer.shape == "list", answer.text
    assert set(cited(answer)) >= set(items_of(bot, SEEK_HELP))
    referral = answer.referral
    assert referral is not None and referral.kind == "care" and referral.in_answer
    assert not answer.red_flags
    assert referral.heading in referral.text and referral.disclaimer in referral.text
    assert not any(c.quote in referral.text for c in referral.criteria), referral.text
    assert len(referral.criteria) == 4 and referral.to_dict()["in_answer"] is True


@pytest.mark.parametrize(
    ("question", "chunk"),
    [
        ("is severe hip pain a reason to see a doctor?", "seek-professional-help/2-severe-pain"),
        (
            "When should leg weakness with hip pain be checked by a professional?",
            "seek-professional-help/4-numbness-or-tingling",
        ),
        ("would seeing a physio be worth it for my achy hip", "treatment-options/2-physical-therapy"),
    ],
)
def test_a_care_question_naming_one_criterion_or_a_treatment_gets_that_passage_and_the_whole_referral(
    bot, question, chunk
):
    answer = bot.ask(question)
    assert answer.shape == "specific", answer.text
    assert cited(answer)[0] == f"hip-pain-from-running/{chunk}"
    if answer.referral is not None:
        assert not answer.referral.in_answer and answer.referral.shown


CAUSES = "Understanding the Causes of Hip Pain from Running"


def test_twins_pair_a_cause_with_the_strategy_that_prevents_it_and_no_coincidence_of_names(bot):
    """Sections pair up item by item when two or more titles match across them; the one word "anti-inflammatory"
    that the medications and the foods share makes no pair."""
    twins = bot.composer.twins
    assert twins, "the article's causes and prevention strategies pair up"
    for item, others in twins.items():
        sections = {bot.documents[c].metadata["section"] for c in (item, *others)}
        assert sections == {CAUSES, PREVENTION}, (item, others)
    assert "hip-pain-from-running/treatment-options/4-anti-inflammatory-medications" not in twins
    assert twins["hip-pain-from-running/understanding-causes/6-footwear"] == (
        "hip-pain-from-running/prevention-best-medicine/6-choose-the-right-footwear",
    )


@pytest.mark.parametrize(
    ("question", "both"),
    [
        ("do i really need to warm up?? i usually just head out the door and go", "warm-up"),
        ("do shoes matter for hip pain? mine are like 2 yrs old lol", "footwear"),
        ("what do they mean by poor running form", "running-form"),
    ],
)
def test_a_specific_answer_gives_the_other_half_of_a_twin_pair(bot, question, both):
    """ "Do I really need to warm up?" is answered by the warm-up advice and by what skipping it risks: one
    sentence of the twin (its point), after the passage, each cited."""
    answer = bot.ask(question)
    chunks = cited(answer)
    assert answer.shape == "specific" and len(chunks) == 2, answer.text
    assert {bot.documents[c].metadata["section"] for c in chunks} == {CAUSES, PREVENTION}
    assert all(both in c for c in chunks), chunks


def test_a_twin_far_below_its_pair_is_left_out(bot):
    """ "how often should I replace my running shoes?" is the footwear advice alone: that worn shoes cause pain
    ranks far below it."""
    answer = bot.ask("how often should I replace my running shoes?")
    assert cited(answer) == ["hip-pain-from-running/prevention-best-medicine/6-choose-the-right-footwear"]


@pytest.mark.parametrize(
    ("question", "left_out"),
    [
        ("how do I treat my hip without surgery or injections?", {"8-surgery", "7-corticosteroid-injections"}),
        ("what can I do instead of physio", {"2-physical-therapy"}),
        ("I don't want surgery, what else is there?", {"8-surgery"}),
        ("I can't afford physio, what else can I do?", {"2-physical-therapy"}),
        (
            "what stuff can i do at home for a sore hip from jogging, dont really want to pay for physio",
            {"2-physical-therapy"},
        ),
    ],
)
def test_a_list_leaves_out_what_the_question_rules_out(bot, question, left_out):
    """These got the physical therapy passage alone, or every option with the one ruled out."""
    answer = bot.ask(question)
    treatment = items_of(bot, TREATMENT)
    listed = {c.chunk_id for c in answer.citations} & set(treatment)
    assert answer.shape == "list", answer.text
    assert {c.rsplit("/", 1)[1] for c in set(treatment) - listed} == left_out


@pytest.mark.parametrize(
    ("question", "chunk"),
    [
        ("can I run without warming up?", "4-warm-up-and-cool-down"),
        ("I have never tried foam rolling, does it help?", "3-foam-rolling-and-self-myofascial-release"),
    ],
)
def test_asking_about_what_one_goes_without_is_asking_about_it(bot, question, chunk):
    answer = bot.ask(question)
    assert answer.shape == "specific" and cited(answer)[0].endswith(chunk), answer.text


def test_what_is_asked_for_instead_may_name_its_own_section(bot):
    """ "what can I eat instead of taking ibuprofen?" rules out the medications and asks for food: the nutrition
    section, not the other treatment options."""
    answer = bot.ask("what can I eat instead of taking ibuprofen?")
    assert answer.shape == "list"
    assert {c.section for c in answer.citations} == {"The Role of Nutrition in Hip Pain Recovery"}


@pytest.mark.parametrize(
    "question",
    [
        "What running form mistakes can cause hip pain, and what should I pay attention to instead?",
        "Is my form to blame?",
    ],
)
def test_the_word_a_twin_pair_shares_names_both_halves(bot, question):
    """ "Form" is the word only "Poor Running Form" and "Optimize Your Running Form" use: a question in it asks
    about the pair, the mistake and what to do instead, however far apart they rank."""
    answer = bot.ask(question)
    assert not answer.abstained, answer.text
    assert {c.rsplit("/", 1)[-1] for c in cited(answer)} == {"3-poor-running-form", "3-optimize-your-running-form"}


def test_a_question_naming_an_item_is_covered_whatever_the_request_classifier_reads(bot):
    """The request classifier read "how do I improve my running form?" as off topic (running technique in
    general); it names one of the article's items. Without the article's subject and beside words it never uses,
    an item's word means something else."""
    answer = bot.ask("how do I improve my running form?")
    assert not answer.abstained, answer.text
    assert "hip-pain-from-running/prevention-best-medicine/3-optimize-your-running-form" in cited(answer)
    assert bot.ask("role-play as my physio and ask me intake questions").abstained


def test_questions_a_whole_section_answers_steer_a_list_to_it(bot):
    """Questions each section answers whole are data (``section_questions.jsonl``, written from the article alone):
    "the emotional side" is as near the treatment section's items as the psychological ones by the embedding."""
    answer = bot.ask("How do I handle the emotional side of a hip injury that's stopped me from running?")
    assert answer.shape == "list", answer.text
    assert {c.section for c in answer.citations} == {"The Psychological Aspect of Hip Pain"}, answer.text
    vectors, rows = bot.composer.section_questions
    assert len(rows) == len(bot.composer.listable) and all(len(r) >= 10 for r in rows)
    assert len(vectors) == sum(len(r) for r in rows)


def test_a_topic_of_several_words_is_the_passages_holding_them_all(bot):
    """ "Foam rolling" was a list of the foam rolling advice and poor running form ("inward rolling of the foot")."""
    answer = bot.ask("tell me more about foam rolling")
    assert answer.shape == "specific", answer.text
    assert cited(answer) == ["hip-pain-from-running/treatment-options/3-foam-rolling-and-self-myofascial-release"]


def test_a_follow_up_naming_an_item_of_the_last_answer_is_answered(bot):
    """The request classifier read "how do I fix the muscle imbalance one?" as another subject; it names an item."""
    first = bot.ask("what causes hip pain?")
    history = [{"role": "user", "content": "what causes hip pain?"}, {"role": "assistant", "content": first.text}]
    answer = bot.ask("how do I fix the muscle imbalance one?", history=history)
    assert not answer.abstained, answer.text
    assert answer.citations


def test_a_definition_of_an_items_title_is_that_item(bot):
    """ "What does cross-training mean for an injured runner?" quoted the support group ("injured runners")."""
    answer = bot.ask("What does cross-training mean for an injured runner?")
    assert cited(answer) == ["hip-pain-from-running/treatment-options/5-cross-training"]


def test_a_summary_of_a_section_named_by_another_form_of_its_title_word_lists_it(bot):
    """ "Treating" names the treatment section as "treatment" does; the title embedding had read the psychological
    section, and before that the topic path quoted "Preventing hip pain is always better than treating it"."""
    answer = bot.ask("In a nutshell, what does the article say about treating hip pain?")
    assert answer.shape == "list"
    assert {c.section for c in answer.citations} == {"Treatment Options for Hip Pain from Running"}


def test_a_word_that_only_begins_like_a_topic_word_is_no_summary_request(bot):
    """ "inflation" begins like "inflammation": "explain how inflation works" is another subject, not a request
    to explain the article."""
    answer = bot.ask("explain how inflation works")
    assert answer.shape != "summary"
    assert answer.abstained


def test_an_item_answer_gets_the_faq_pair_that_speaks_of_the_same_thing(bot):
    """ "what stretches help?" leads with the flexibility advice; the FAQ names the stretches. Beside a yes-or-no
    question the FAQ's "Yes, stretches like ..." would answer a question nobody asked, and a FAQ answer that leads
    is the article's own answer, alone."""
    names = set(cited_names(bot.ask("what stretches help?")))
    assert {"2-improve-flexibility", "q3-specific-stretches-hip-pain-running"} <= names
    yes_no = bot.ask("should I stretch before running?")
    assert not any("faqs/" in c.chunk_id for c in yes_no.citations), yes_no.text
    own = bot.ask("Are there specific stretches for hip pain from running?")
    assert cited_names(own) == ["q3-specific-stretches-hip-pain-running"]


def test_a_plan_that_names_the_articles_sections_gets_them_and_a_personal_plan_does_not(bot):
    """No personal plan is in the article; the sections a request for one names by their titles' words are."""
    named = bot.ask(
        "Give me the complete game plan for recovering from running-related hip pain: treatment, what to eat, and "
        "how to stay sane while I'm out."
    )
    assert not named.abstained and named.shape == "list"
    assert {"Treatment Options for Hip Pain from Running", "The Role of Nutrition in Hip Pain Recovery"} <= {
        c.section for c in named.citations
    }
    personal = bot.ask("give me an exact week by week plan to return to running after hip pain, like week 1 walk/run")
    assert personal.abstained


def test_the_second_one_after_a_list_is_that_item(bot):
    """ "tell me more about the second one" repeated the whole prevention list; it is the second item."""
    listed = bot.ask("how do I prevent hip pain?")
    history = [{"role": "user", "content": "how do I prevent hip pain?"}, {"role": "assistant", "content": listed.text}]
    second = bot.ask("tell me more about the second one", history=history)
    assert second.shape == "specific"
    assert [c.chunk_id for c in second.citations] == [listed.items[1].chunk_id], second.text


@pytest.mark.parametrize(
    ("question", "faq", "section"),
    [
        ("Is it okay to keep running through hip pain, and if not, what should I do to treat it?", "q4-", TREATMENT),
        ("Does running cause hip arthritis, and what else is behind hip pain in runners?", "q1-", CAUSES),
    ],
)
def test_a_faq_and_a_list_asked_in_one_question_get_both(bot, question, faq, section):
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    cited_ids = cited(answer)
    assert cited_ids[0].split("/")[-1].startswith(faq), cited_ids
    assert set(items_of(bot, section)) <= set(cited_ids)


def test_a_faq_question_with_a_remark_beside_it_stays_the_faqs_answer(bot):
    """ "hip is sore from running" asks for no list: the FAQ's answer alone."""
    answer = bot.ask("how many days off should i take, hip is sore from running")
    assert answer.shape == "specific", answer.text
    assert any("q2-long-rest" in c for c in cited(answer))


def test_plus_and_ampersand_join_parts_of_a_question(bot):
    from assistant.compose.words import PART_BREAK

    assert len([p for p in PART_BREAK.split("how many days off do i need & what do i do meanwhile") if p]) == 2
    answer = bot.ask("I need a complete list of treatment options plus every sign that I should see a doctor.")
    assert answer.shape == "list", answer.text
    assert set(items_of(bot, TREATMENT)) | set(items_of(bot, "When to Seek Professional Help")) <= set(cited(answer))


@pytest.mark.parametrize(
    "question",
    [
        "Break down the main points of this hip pain piece for me.",
        "too long didnt read - whats the gist of this article",
        "cliff notes version pls",
        "give me a quick overview of everything covered here re: running hip pain",
        "In a nutshell, what should a runner with sore hips know?",
        "Summarize the most important advice for a marathoner whose hip keeps flaring up.",
    ],
)
def test_everyday_summary_requests_get_the_summary(bot, question):
    """ "break down", contractions typed without apostrophes, "cliff notes", "re:" (like "about", it only points at
    the topic), and a summary word opening a question about the subject, whatever follows it."""
    assert bot.ask(question).shape == "summary"


def test_beyond_at_the_start_rules_out_what_it_names(bot):
    from assistant import nlp

    assert "fever" not in nlp.ruled_out("Beyond a fever, which warning signs mean I need a doctor?")
    assert "two weeks" in nlp.ruled_out("pain lasting beyond two weeks, should I see a doctor?")


def test_a_lead_in_that_would_answer_alone_brings_the_list_it_announces(bot):
    """ "Nutrition plays a crucial role ... Ensuring you're getting the right nutrients can help ...:" announces a list;
    alone it would end at its colon. The answer keeps all of the lead-in and gives the list."""
    answer = bot.ask("Does nutrition matter for hip pain recovery, and if so, which nutrients should I focus on?")
    assert answer.shape == "list", answer.text
    assert answer.text.startswith("Nutrition plays a crucial role in the recovery process [1].")
    assert set(items_of(bot, "The Role of Nutrition in Hip Pain Recovery")) <= set(cited(answer))


def test_explain_what_a_term_is_asks_for_no_summary(bot):
    """ "Explain like I'm five ..." asks for a summary; "Explain what an overuse injury is." for a definition."""
    answer = bot.ask("Explain what an overuse injury is.")
    assert answer.shape != "summary", answer.text
    assert any("overuse" in c for c in cited(answer))
    assert bot.ask("explain the article to me").shape == "summary"


def test_which_symptoms_need_medical_attention_gets_every_criterion(bot):
    answer = bot.ask("Which symptoms mean my running hip pain needs medical attention?")
    assert set(items_of(bot, "When to Seek Professional Help")) <= set(cited(answer)), answer.text


def test_a_reported_red_flag_and_a_question_asking_when_get_every_criterion(bot):
    """ "... not really getting better. at what point do i stop being stubborn and get it checked": when to get care
    is the whole list, the reported criterion first."""
    answer = bot.ask(
        "hip pain for like 4 weeks now, been resting, not really getting better. at what point do i stop being"
        " stubborn and get it checked"
    )
    ids = cited(answer)
    assert set(items_of(bot, "When to Seek Professional Help")) <= set(ids), answer.text
    assert ids[0].endswith("1-persistent-pain"), ids


def test_in_one_paragraph_asks_only_for_the_form_of_a_summary(bot):
    assert bot.ask("Sum up everything a runner should know about hip pain in one short paragraph.").shape == "summary"


@pytest.mark.parametrize(
    "question",
    [
        "should i just pop ibuprofen for my hip or are there better ways to treat runners hip pain",
        "Besides eating omega-3 foods like salmon, what else should my diet include to help my hip recover?",
    ],
)
def test_a_question_asking_what_else_keeps_the_list_however_one_item_stands_out(bot, question):
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    assert len(cited(answer)) >= 4, cited(answer)


@pytest.mark.parametrize(
    ("question", "tried"),
    [
        ("I've tried resting and icing my hip, what else is there?", "1-rest-and-ice"),
        ("tried popping ibuprofen for my hip, what other stuff helps", "4-anti-inflammatory-medications"),
        ("I've already been icing it and resting for a few days. What else can I try for my hip?", "1-rest-and-ice"),
        ("Rest and ice haven't fixed my hip. What are the next steps from here?", "1-rest-and-ice"),
    ],
)
def test_what_else_after_what_was_tried_is_the_rest_of_its_list(bot, question, tried):
    """ "tried", "been icing", "haven't fixed": what was tried is not what else there is; "next steps" asks for the
    rest."""
    answer = bot.ask(question)
    assert answer.shape == "list", answer.text
    ids = cited(answer)
    assert len(ids) >= 5 and not any(c.endswith(tried) for c in ids), ids
    assert {"2-physical-therapy", "5-cross-training", "8-surgery"} - {tried} <= set(cited_names(answer))


def test_a_definition_of_a_term_no_ranked_passage_names_quotes_the_passage_that_does(bot):
    """ "What is hip dysplasia?" was answered with the infection criterion, which the embedding ranks first; the
    one passage that names the term is the FAQ on arthritis."""
    answer = bot.ask("What is hip dysplasia?")
    assert answer.shape == "definition"
    assert "hip dysplasia" in answer.text
    assert cited_names(answer) == ["q1-running-cause-hip-arthritis"]


def test_asking_when_to_get_the_pain_checked_by_a_doctor_lists_every_criterion(bot):
    """ "get my running-related hip pain checked" holds more words between "get" and "checked" than "get it
    checked"; it asks when to get care all the same."""
    answer = bot.ask("When should I get my running-related hip pain checked by a doctor?")
    assert answer.shape == "list"
    names = set(cited_names(answer))
    assert {"1-persistent-pain", "2-severe-pain", "3-signs-of-infection", "4-numbness-or-tingling"} <= names


def test_running_technique_is_running_form(bot):
    """ "technique" is the article's "form" and "mechanics" (data/synonyms.tsv): not the treatment list."""
    answer = bot.ask("How do I fix my running technique so my hips stop hurting?")
    names = set(cited_names(answer))
    assert "3-optimize-your-running-form" in names
    assert "1-rest-and-ice" not in names


def test_an_item_question_beside_a_faq_question_gets_the_faq_answer_whole(bot):
    """The same for a specific answer that leads with an item: "do orthotics help ..., and how long should I rest?"."""
    answer = bot.ask("do orthotics help with hip pain, and how long should I rest?")
    names = cited_names(answer)
    assert names == ["6-orthotics", "q2-long-rest-hip-pain-running"]
    assert "Mild pain may only require a few days of rest" in answer.text


def test_sorting_it_out_asks_for_the_treatments_beside_the_causes(bot):
    answer = bot.ask("my hip's been giving me grief since I upped my k's. What's causing it and how do I sort it out?")
    assert {c.section for c in answer.citations} >= {
        "Understanding the Causes of Hip Pain from Running",
        "Treatment Options for Hip Pain from Running",
    }


def test_a_faq_question_beside_another_faq_question_gets_both_answers_whole(bot):
    """ "What stretches help a sore hip, and how long should I stay off running?" got the stretches alone; the
    other part asks the rest FAQ, whose answer is quoted whole ("Mild pain may only require a few days ...")."""
    answer = bot.ask("What stretches help a sore hip, and how long should I stay off running?")
    names = cited_names(answer)
    assert names == ["q3-specific-stretches-hip-pain-running", "q2-long-rest-hip-pain-running"]
    assert "Mild pain may only require a few days of rest" in answer.text


def test_a_part_that_tells_asks_for_no_passage_of_its_own(bot):
    """ "My running shoes are really old" tells; only a part that asks adds a FAQ pair or an item."""
    answer = bot.ask(
        "My running shoes are really old and I'm wondering if they're behind my hip pain. How do I sort this out?"
    )
    assert "6-footwear" in cited_names(answer)


def test_protecting_the_hips_is_prevention(bot):
    answer = bot.ask("Can running wreck my hips long term, like arthritis? And what can I do to protect them?")
    assert answer.shape == "list"
    assert "Prevention: The Best Medicine" in {c.section for c in answer.citations}


def test_a_yes_no_question_asked_as_a_faq_gets_that_answer_not_the_list(bot):
    """ "can i just run through hip pain or is that dumb" is 0.84 from one of the running FAQ's own questions, yet
    its words "hip pain" made it read as a request for the treatment list."""
    answer = bot.ask("can i just run through hip pain or is that dumb")
    assert answer.shape == "specific"
    assert cited_names(answer) == ["q4-continue-running-hip-pain"]


def test_a_yes_no_question_of_two_parts_asked_as_two_faqs_gets_both(bot):
    answer = bot.ask("should i keep running thru the hip pain or take a break? and if break, how long")
    assert cited_names(answer)[:2] == ["q4-continue-running-hip-pain", "q2-long-rest-hip-pain-running"]


def test_a_faq_answer_that_leads_brings_the_item_on_the_same_thing_unless_asked_as_its_own_question(bot):
    """ "whats a good stretch for my hips after running" gets the stretches the FAQ names and the flexibility advice;
    the FAQ's own question gets the FAQ's answer alone."""
    assert cited_names(bot.ask("whats a good stretch for my hips after running")) == [
        "q3-specific-stretches-hip-pain-running",
        "2-improve-flexibility",
    ]
    assert cited_names(bot.ask("Are there specific stretches for hip pain from running?")) == [
        "q3-specific-stretches-hip-pain-running"
    ]


def test_everything_about_a_sections_topic_adds_the_faq_pairs_that_name_it(bot):
    """ "tell me everything about preventing hip pain": the prevention list and "What are the best shoes for
    preventing hip pain?"; "List the causes" asks for the list alone, not the arthritis FAQ."""
    answer = bot.ask("tell me everything about preventing hip pain")
    assert answer.shape == "list"
    assert "q5-best-shoes-preventing-hip-pain" in cited_names(answer)
    assert not any("/faqs/" in c.chunk_id for c in bot.ask("List the causes of hip pain from running.").citations)


def test_a_summary_of_something_else_is_still_another_task(bot):
    assert bot.ask("summarize the plot of the movie Rocky").abstained
