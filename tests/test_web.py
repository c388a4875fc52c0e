"""The chat page without a browser: how answers are rendered, the ``/ask`` API, and ``serve --auth``.

Rendering is checked on real answers of the session ``bot`` and on hand-made
answers that carry markup; the API is called through ``gradio_client`` against
a real server on a free loopback port.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fixtures.common import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import texts
from assistant.answer import Answer, Citation, Referral, ReferralCriterion
from assistant.render import as_text, render_answer
from assistant.web import examples_for

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "hip-pain-from-running.txt"
SECTION_TREATMENT = "Treatment Options for Hip Pain from Running"
ICE_CHUNK = "hip-pain-from-running/treatment-options/1-rest-and-ice"
ICE = "How long should I ice my hip?"
RED_FLAG = "my leg is numb and I can't walk"
OFF_TOPIC = "What is the capital of France?"

MARKDOWN_SPECIALS = "\\`*_{}[]()#+-.!|~"


def faq_questions() -> list[str]:
    """The article's FAQ questions, in article order, parsed from the article itself."""
    text = ARTICLE.read_text(encoding="utf-8")
    return [q.strip() for q in re.findall(r"^Q: (.+?) A: ", text, re.M)]


def block(rendered: str, css_class: str) -> str:
    """The rendered message from the element with this class to the end."""
    start = rendered.index(f'class="{css_class}"')
    return rendered[start:]


# ---------------------------------------------------------------- render_answer


@pytest.fixture(scope="module")
def ice_answer(bot) -> Answer:
    return bot.ask(ICE)


@pytest.fixture(scope="module")
def red_flag_answer(bot) -> Answer:
    return bot.ask(RED_FLAG)


def test_render_real_answer_markers_and_one_sources_block(ice_answer):
    answer = ice_answer
    assert answer.citations and not answer.referral and "15-20 minutes" in answer.text
    out = render_answer(answer, key="k1")

    markers_in_text = re.findall(r"\[(\d+)\]", answer.text)
    assert markers_in_text
    # Every marker links to its source's element, which exists in the same message.
    links = re.findall(r'<a class="hip-marker" href="#(hip-k1-\d+)" title="Source (\d+): [^"]+">\[(\d+)\]</a>', out)
    assert [n for _, _, n in links] == markers_in_text
    assert all(target == f"hip-k1-{n}" and tip == n for target, tip, n in links)
    assert out.count('class="hip-sources"') == 1
    assert out.count("<details") == 1
    assert f"<summary>Sources ({len(answer.citations)})</summary>" in out
    sources = block(out, "hip-sources")
    for c in answer.citations:
        # "Section › Item", the chunk id only as a tooltip, the chunk quoted with the answer's sentences marked.
        assert f'id="hip-k1-{c.marker}"' in sources
        assert (
            f'title="{html.escape(c.chunk_id)}"><strong>[{c.marker}] {html.escape(c.section)} \u203a {c.title}'
            in sources
        )
        assert "<code>" not in sources
        assert c.quotes and all(f"<mark>{html.escape(q)}</mark>" in sources for q in c.quotes)
        quoted = re.search(rf'id="hip-k1-{c.marker}".*?<blockquote>(.*?)</blockquote>', sources).group(1)
        assert html.unescape(re.sub(r"</?mark>", "", quoted)) == c.text
    assert any(c.section == SECTION_TREATMENT and c.chunk_id == ICE_CHUNK for c in answer.citations)
    assert "hip-warning" not in out and 'role="alert"' not in out
    # One HTML block: a blank line would end it and the rest would be read as Markdown.
    assert "\n\n" not in out


def test_render_red_flag_warning_first_and_escaped(red_flag_answer):
    answer = red_flag_answer
    assert answer.referral and answer.red_flags
    out = render_answer(answer)

    assert out.count('class="hip-warning"') == 1
    assert '<div class="hip-warning" role="alert">' in out
    assert out.index('class="hip-warning"') < out.index('class="hip-answer"')
    warning = out[out.index('class="hip-warning"') : out.index('class="hip-answer"')]
    assert html.escape(answer.referral.heading, quote=True) in warning
    after = out[out.index('class="hip-answer"') :]
    for c in answer.referral.triggered:
        assert html.escape(c.title, quote=True) in warning and html.escape(c.trigger, quote=True) in warning
        # Its sentence is in the answer right below, printed once: the warning names it, does not repeat it.
        assert c.in_answer and html.escape(c.quote, quote=True) not in warning
        assert html.escape(c.quote.rstrip("."), quote=True) in after
    # The other criteria are folded away, the disclaimer is one line.
    assert f"<details><summary>{html.escape(texts.REFERRAL_OTHERS)}</summary>" in warning
    assert warning.count('class="hip-disclaimer"') == 1
    # The referral quotes the user ("can't walk") and the article: quotes are escaped, not raw.
    assert any("'" in (c.trigger or "") for c in answer.referral.triggered)
    text_only = re.sub(r"<[^>]*>", "", "<div " + warning)
    assert '"' not in text_only and "'" not in text_only
    assert "seek immediate medical attention" in warning
    # The answer text itself follows, with its markers.
    assert 'class="hip-marker" href="#hip-answer-1"' in out[out.index('class="hip-answer"') :]
    # Announced once: the alert role only on the complete answer, not while it streams.
    streaming = render_answer(answer, streaming=True)
    assert 'class="hip-warning"' in streaming and 'role="alert"' not in streaming


def test_render_streaming_hides_sources(ice_answer):
    out = render_answer(ice_answer, streaming=True)
    assert "hip-sources" not in out and "<details" not in out and "Sources (" not in out
    assert "hip-copy" not in out and "hip-plain" not in out  # Copy arrives with the complete answer
    assert '<span class="hip-marker">[1]</span>' in out  # no link yet: its source is not on the page
    assert "15-20 minutes" in out
    # Before the first words arrive the message shows an ellipsis, not an empty bubble.
    empty = render_answer(Answer(), streaming=True)
    assert '<div class="hip-answer">\u2026</div>' in empty
    assert "\u2026" not in render_answer(Answer())


@pytest.mark.parametrize("question", [OFF_TOPIC, ""])
def test_render_abstained_has_no_sources(bot, question):
    answer = bot.ask(question)
    assert answer.abstained and not answer.citations
    out = render_answer(answer)
    assert "hip-sources" not in out and "<details" not in out and "Sources (" not in out
    assert html.escape(answer.text) in out
    if question == "":
        assert texts.EMPTY_QUESTION in out


def test_render_escapes_markup_in_article_text_and_referral():
    citation = Citation(
        marker=1,
        chunk_id="doc/<chunk>&1",
        section="Causes & <b>Effects</b>",
        text='Ice <script>alert("x")</script> & rest; 5 < 6 > 4',
        title="Ice & <i>Heat</i>",
    )
    answer = Answer(
        text="Use <b>ice</b> & rest [1].",
        citations=[citation],
        referral=Referral(
            "flagged",
            'Call <a href="x">help</a> & go',
            (ReferralCriterion("severe_pain", "Second <line>", '& "quoted"', "c", "s", trigger="<b>me</b>"),),
            disclaimer="<i>not</i> a diagnosis",
        ),
        notice="Cut <here> & there",
    )
    out = render_answer(answer)

    for raw in ("<script", "<b>", "<i>", "<a href", "<line>", "<chunk>", "<here>", "5 < 6", "6 > 4", " & "):
        assert raw not in out, raw
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; rest; 5 &lt; 6 &gt; 4" in out
    assert "Use &lt;b&gt;ice&lt;/b&gt; &amp; rest" in out
    assert "Causes &amp; &lt;b&gt;Effects&lt;/b&gt;" in out and "Ice &amp; &lt;i&gt;Heat&lt;/i&gt;" in out
    assert 'title="doc/&lt;chunk&gt;&amp;1"' in out
    assert "Call &lt;a href=&quot;x&quot;&gt;help&lt;/a&gt; &amp; go" in out
    assert "Second &lt;line&gt;" in out and "&amp; &quot;quoted&quot;" in out
    assert "&lt;b&gt;me&lt;/b&gt;" in out and "&lt;i&gt;not&lt;/i&gt; a diagnosis" in out
    assert '<p class="hip-notice">Cut &lt;here&gt; &amp; there</p>' in out
    assert out.index("hip-warning") < out.index("hip-notice") < out.index("hip-answer") < out.index("hip-sources")
    # Markers are still marked up after escaping.
    assert '<a class="hip-marker" href="#hip-answer-1"' in out


# ---------------------------------------------------------------- as_text


WRAPPER = re.compile(r'^<div class="hip-user">(?P<inner>.*)</div>$', re.S)


def shown(out: str) -> str:
    """What a browser displays for as_text's output: the wrapper removed, <br> as newline, entities decoded."""
    m = WRAPPER.match(out)
    assert m, out
    inner = m["inner"]
    assert "\n" not in inner, "a newline could end the raw HTML block"
    assert not re.search(r"<(?!br>)", inner), f"a tag other than <br> in {inner!r}"
    return html.unescape(inner.replace("<br>", "\n"))


def test_as_text_script_tag_is_not_markup():
    out = as_text("<script>alert(1)</script>")
    assert "<script" not in out.lower()
    assert shown(out) == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "value",
    [
        "**bold**",
        "[link](http://x)",
        "_it_ `code` # h",
        "Title\n===",
        "$$x^2$$",
        "a\n\nb",
        "see http://example.com/a_b",
    ],
)
def test_as_text_keeps_markdown_literal(value):
    assert shown(as_text(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(MARKDOWN_SPECIALS + "<>&\"' aZ9=$\n")), max_size=40))
def test_as_text_round_trips_and_leaves_no_tags(value):
    assert shown(as_text(value)) == value


# ---------------------------------------------------------------- examples


def test_examples_include_every_faq_in_article_order(bot):
    faqs = faq_questions()
    assert len(faqs) == 5
    assert "Can I continue running with hip pain?" in faqs
    examples = examples_for(bot)
    assert all(isinstance(e, str) and e.strip() for e in examples)
    assert len(examples) == len(set(examples))
    assert examples[: len(faqs)] == faqs
    positions = [examples.index(q) for q in faqs]
    assert positions == sorted(positions)


# ---------------------------------------------------------------- the /ask API


@pytest.fixture(scope="module")
def server(page_url):
    return page_url


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False, download_files=False)


def test_server_listens_on_loopback(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server)


def test_api_ask_returns_answer_dict(client, bot):
    data = client.predict(ICE, [], api_name="/ask")
    assert isinstance(data, dict)
    assert set(data) == set(Answer().to_dict())
    assert "15-20 minutes" in data["text"]
    assert data == bot.ask(ICE).to_dict()
    assert data["citations"][0]["chunk_id"] == ICE_CHUNK
    assert data["abstained"] is False and data["referral"] is None


def test_api_ask_follow_up_uses_history(client):
    follow_up = "how long should each session be?"
    alone = client.predict(follow_up, [], api_name="/ask")
    assert alone["abstained"] is True and "15-20 minutes" not in alone["text"]

    first = client.predict("Does ice help hip pain?", [], api_name="/ask")
    history = [
        {"role": "user", "content": "Does ice help hip pain?"},
        {"role": "assistant", "content": first["text"]},
    ]
    second = client.predict(follow_up, history, api_name="/ask")
    assert second["abstained"] is False
    assert "15-20 minutes" in second["text"]
    assert second["citations"]


def test_api_ask_empty_message_then_keeps_answering(client):
    for empty in ("", "   "):
        data = client.predict(empty, [], api_name="/ask")
        assert data["text"] == texts.EMPTY_QUESTION
        assert data["abstained"] is True and data["citations"] == []
    again = client.predict(ICE, [], api_name="/ask")
    assert "15-20 minutes" in again["text"] and again["abstained"] is False


# ---------------------------------------------------------------- hip-assistant serve


def test_serve_bad_auth_exits_2(index_dir):
    out = run_cli("serve", "--auth", "bad", index_dir=index_dir, timeout=120)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--auth" in out.stderr and "user:password" in out.stderr
    assert "Traceback" not in out.stderr
    assert "page on http" not in out.stderr  # refused before starting anything


def test_a_vote_finds_its_turn_when_old_turns_were_dropped():
    from assistant.web import _turn_of

    turns = [{"key": f"t{i}"} for i in range(3)]
    chat = [{"role": r, "content": ""} for _ in range(5) for r in ("user", "assistant")]  # 5 turns shown, 3 kept
    assert _turn_of(turns, chat, 9)["key"] == "t2"  # the last answer
    assert _turn_of(turns, chat, 5)["key"] == "t0"
    assert _turn_of(turns, chat, 3) is None  # a dropped turn
    assert _turn_of(turns, chat, [7])["key"] == "t1"
    assert _turn_of(turns, chat[:6], 5)["key"] == "t2" and _turn_of(turns, chat, "x") is None


def test_a_submission_carrying_an_older_chat_keeps_its_question_in_the_box(bot):
    """Two quick submissions carry the chat of before the first; when the first's answer is done before the
    second is read, the second saw "not busy" and replaced the first question and its answer (a CI run of the
    browser test lost a question that way). A chat older than the session's count of questions puts the text back."""
    from assistant.web import build_app

    demo = build_app(bot)
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    add_question = next(f.fn for f in fns if getattr(f.fn, "__name__", "") == "add_question")
    box, chat, *_rest, asked = add_question("first", [], False, 0)
    assert box == "" and len(chat) == 1 and asked == 1
    box, chat, *_rest = add_question("second", [], False, 1)  # the chat of before the first question
    assert box == "second" and not isinstance(chat, list)  # put back, the chat left as it is
    current = [{"role": "user", "content": as_text("first")}, {"role": "assistant", "content": "its answer"}]
    box, chat, *_rest, asked = add_question("second", current, False, 1)
    assert box == "" and len(chat) == 3 and asked == 2


def test_only_one_run_answers_a_question_and_a_run_with_nothing_to_answer_changes_nothing(bot):
    """Every submission's chain runs `answer`, also one whose question went back to the box. A CI run of the
    browser test lost both questions that way: that run found nothing to answer, yielded nothing, and Gradio ended
    it by setting every output to None, the chat emptied. Such a run, and a second run for a question already taken
    up, now yield one "change nothing"."""
    import asyncio

    from assistant.web import build_app

    demo = build_app(bot)
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    add_question = next(f.fn for f in fns if getattr(f.fn, "__name__", "") == "add_question")
    answer = next(f.fn for f in fns if getattr(f.fn, "__name__", "") == "answer")

    async def run(pending, chat):
        return [out async for out in answer(pending, chat, [])]

    def changes_nothing(outputs) -> bool:
        return len(outputs) == 1 and all(isinstance(o, dict) and o.get("__type__") == "update" for o in outputs[0])

    _box, chat, pending, *_rest = add_question("first", [], False, 0)
    assert changes_nothing(asyncio.run(run(None, chat)))
    answered = asyncio.run(run(pending, chat))
    assert answered[-1][0][-1]["role"] == "assistant" and answered[-1][2] is None  # answered, nothing pending
    assert changes_nothing(asyncio.run(run(pending, chat)))  # the refused submission's run: already taken up
