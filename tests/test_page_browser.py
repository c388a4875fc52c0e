"""The chat page end to end: a real server, the real Assistant, headless Chromium through Playwright.

One server for the module; each test opens its own browser context (its own
Gradio session). Every request any page makes is recorded, and the last test
checks that none of them left loopback.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fixtures.pagekit import (
    ASK,
    BOT_MSG,
    CHAT,
    FAQS,
    ICE,
    ICE_CHUNK,
    REQUESTS,
    SECTION_TREATMENT,
    TEXTBOX,
    USER_MSG,
    WAIT,
    Session,
)

pytest.importorskip("playwright")
from playwright.sync_api import expect

from assistant import texts

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- the page


def test_page_shows_scope_and_disclaimer(session):
    page = session.page
    intro = page.locator("#hip-intro")
    expect(intro).to_contain_text(texts.SCOPE_LINE, timeout=WAIT)
    expect(intro).to_contain_text(texts.DISCLAIMER, timeout=WAIT)
    expect(page.locator(ASK)).to_have_text("Ask")
    expect(page.locator(TEXTBOX)).to_be_editable()
    expect(page.locator(USER_MSG)).to_have_count(0)
    for question in FAQS:
        expect(page.get_by_role("button", name=question, exact=True)).to_be_visible()


def test_ice_question_answer_markers_and_sources(session, bot, tmp_path):
    page = session.page
    expected = bot.ask(ICE)
    assert "15-20 minutes" in expected.text
    session.submit(ICE)

    expect(session.last_user()).to_have_text(ICE, timeout=WAIT)
    session.wait_answer(1, expected)
    answer = session.last_bot()
    expect(answer).to_contain_text("15-20 minutes")
    marker = answer.locator(".hip-marker").first
    expect(marker).to_have_text("[1]")
    expect(marker).to_be_visible()
    expect(page.locator(TEXTBOX)).to_have_value("")
    expect(answer.locator(".hip-warning")).to_have_count(0)

    sources = answer.locator("details.hip-sources")
    expect(sources).to_have_count(1)
    summary = sources.locator("summary")
    expect(summary).to_have_text(f"Sources ({len(expected.citations)})")
    quote = sources.locator("blockquote").first
    # Collapsed by default: the quoted chunk is hidden until the summary is clicked.
    assert sources.evaluate("d => d.open") is False
    expect(quote).to_be_hidden()

    summary.click()
    expect(quote).to_be_visible(timeout=WAIT)
    assert sources.evaluate("d => d.open") is True
    citation = expected.citations[0]
    assert citation.section == SECTION_TREATMENT and citation.chunk_id == ICE_CHUNK
    expect(sources).to_contain_text(f"{SECTION_TREATMENT} \u203a Rest and Ice")
    expect(sources.locator(".hip-source").first).to_have_attribute("title", ICE_CHUNK)  # the id only as a tooltip
    assert quote.text_content() == citation.text
    assert citation.text == bot.documents[ICE_CHUNK].page_content

    path = tmp_path / "screenshot.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.is_file() and path.stat().st_size > 10_000, path


def test_example_button_asks_the_faq(session, bot):
    question = "Can I continue running with hip pain?"
    expected = bot.ask(question)
    assert expected.citations
    session.page.get_by_role("button", name=question, exact=True).click()

    expect(session.last_user()).to_have_text(question, timeout=WAIT)
    session.wait_answer(1, expected)
    answer = session.last_bot()
    expect(answer.locator(".hip-marker").first).to_have_text("[1]")
    expect(answer.locator(".hip-sources summary")).to_have_text(f"Sources ({len(expected.citations)})")
    expect(answer.locator(".hip-source").first).to_have_attribute("title", expected.citations[0].chunk_id)
    expect(session.page.locator(USER_MSG)).to_have_count(1)


def test_list_answer_shows_working_bullets(session, bot):
    question = "How can I prevent hip pain?"
    expected = bot.ask(question)
    assert expected.shape == "list" and len(expected.items) == 6
    session.submit(question)
    expect(session.page.locator(BOT_MSG)).to_have_count(1, timeout=WAIT)
    answer = session.last_bot()
    expect(answer.locator(".hip-sources")).to_have_count(1, timeout=WAIT)
    bullets = answer.locator(".hip-answer ul > li")
    expect(bullets).to_have_count(6)
    for i, item in enumerate(expected.items):
        expect(bullets.nth(i).locator("strong")).to_have_text(item.title)
        expect(bullets.nth(i).locator(".hip-marker").first).to_have_text(f"[{item.marker}]")
    # Markdown syntax never shows: the bullets are real list items.
    expect(answer.locator(".hip-answer")).not_to_contain_text("**")


def test_red_flag_warning_above_answer(session, bot):
    question = "My leg keeps going numb and I can't put weight on it"
    expected = bot.ask(question)
    assert expected.referral and "severe_pain" in expected.red_flags
    session.submit(question)
    session.wait_answer(1, expected)

    answer = session.last_bot()
    warning = answer.locator(".hip-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning).to_contain_text("seek immediate medical attention")
    expect(warning).to_contain_text(texts.REFERRAL_DISCLAIMER)
    text = answer.locator(".hip-answer")
    expect(text).to_be_visible()
    warning_box, text_box = warning.bounding_box(), text.bounding_box()
    assert warning_box and text_box
    assert warning_box["y"] + warning_box["height"] <= text_box["y"] + 1, (warning_box, text_box)


def test_follow_up_uses_the_conversation(session, bot):
    first, follow_up = "Does ice help hip pain?", "how long should each session be?"
    assert bot.ask(follow_up).abstained  # on its own it means nothing: only the history makes it answerable
    first_answer = bot.ask(first)
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": first_answer.text}]
    expected = bot.ask(follow_up, history)
    assert not expected.abstained and "15-20 minutes" in expected.text

    session.submit(first)
    session.wait_answer(1, first_answer)
    session.submit(follow_up, click=False)  # Enter submits too
    session.wait_answer(2, expected)

    second = session.page.locator(BOT_MSG).nth(1)
    expect(second).to_contain_text("15-20 minutes")
    expect(second).not_to_contain_text(texts.NOT_COVERED)
    expect(session.page.locator(USER_MSG)).to_have_count(2)
    expect(session.last_user()).to_have_text(follow_up)


def test_script_typed_by_user_is_shown_not_run(session, bot):
    page = session.page
    payload = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
    session.submit(payload)
    session.wait_answer(1, bot.ask(payload))

    user = session.last_user()
    expect(user).to_contain_text("<script>window.__pwned = 1</script>")
    expect(user).to_contain_text('<img src=x onerror="window.__pwned=2">')
    expect(user.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    assert session.dialogs == []
    assert not [u for u in REQUESTS if urlsplit(u).path == "/x"]  # the <img src=x> was never loaded


def test_two_sessions_do_not_share_conversations(open_session, bot):
    a, b = open_session(), open_session()
    question_a = "Does ice help hip pain?"
    question_b = "how long should each session be?"  # answerable only with A's history
    expected_a, expected_b = bot.ask(question_a), bot.ask(question_b)
    assert expected_b.abstained

    a.submit(question_a)
    b.submit(question_b)  # both in flight at once
    a.wait_answer(1, expected_a)
    b.wait_answer(1, expected_b)

    expect(a.page.locator(USER_MSG)).to_have_count(1)
    expect(b.page.locator(USER_MSG)).to_have_count(1)
    expect(a.last_user()).to_have_text(question_a)
    expect(b.last_user()).to_have_text(question_b)
    expect(a.page.locator(CHAT)).not_to_contain_text(question_b)
    expect(b.page.locator(CHAT)).not_to_contain_text(question_a)
    expect(b.last_bot()).not_to_contain_text("15-20 minutes")


def test_empty_question_adds_nothing_and_page_keeps_answering(session, bot):
    page = session.page
    for empty, click in (("", True), ("   ", False)):
        session.submit(empty, click=click)
        # The round trip is over once its warning shows; nothing it returns can land in the box later.
        expect(page.get_by_text(texts.EMPTY_QUESTION).last).to_be_visible(timeout=WAIT)
    expect(page.locator(USER_MSG)).to_have_count(0)
    expected = bot.ask(ICE)
    session.submit(ICE)
    session.wait_answer(1, expected)
    expect(page.locator(USER_MSG)).to_have_count(1)
    expect(page.locator(BOT_MSG)).to_have_count(1)
    expect(session.last_user()).to_have_text(ICE)


def test_empty_question_tells_the_user(session):
    session.submit("")
    expect(session.page.get_by_text(texts.EMPTY_QUESTION)).to_be_visible(timeout=3_000)


# Two questions sent before the first reply arrives: both requests leave in one JavaScript task,
# so the second is always sent while the first is in flight (no timing luck involved).
SUBMIT_TWICE = """([first, second]) => {
  const box = document.querySelector('#hip-question textarea');
  const ask = document.querySelector('#hip-ask');
  const type = (text) => { box.value = text; box.dispatchEvent(new Event('input', {bubbles: true})); };
  type(first); ask.click(); type(second); ask.click();
}"""


def test_question_sent_while_another_is_in_flight_is_not_lost(session):
    page = session.page
    first, second = ICE, "Which foods help with inflammation?"
    page.wait_for_selector(ASK, state="visible", timeout=WAIT)
    page.evaluate(SUBMIT_TWICE, [first, second])
    expect(page.locator(f"{BOT_MSG} .hip-sources").first).to_be_attached(timeout=WAIT)  # an answer completed
    # Nothing lost: both questions in the conversation, or one there and the other back in the box to send
    # again (which one the server sees first is up to the browser).
    page.wait_for_function(
        """([first, second]) => {
             const shown = [...document.querySelectorAll('#hip-chat [data-testid="user"]')].map(m => m.innerText);
             const box = document.querySelector('#hip-question textarea').value;
             const kept = (q) => shown.includes(q) || box === q;
             return kept(first) && kept(second) && shown.length >= 1;
           }""",
        arg=[first, second],
        timeout=WAIT,
    )
    # Each question shown is answered once, and the answer stays (a run with nothing to answer once emptied the chat).
    page.wait_for_timeout(1_000)
    expect(page.locator(USER_MSG)).not_to_have_count(0)
    expect(page.locator(BOT_MSG)).to_have_count(page.locator(USER_MSG).count())


# What the user typed must be shown exactly as typed (as_text: "no tags, no formatting").
LITERAL_OK = [
    "**bold** _it_ `code`",
    "# not a heading",
    "> not a quote",
    "1. not a list",
    "<b>not bold</b> &amp; 5 < 6",
    "C:\\path\\to",
    "line one\nline two",
]
AUTOLINK_BUG = (
    "as_text backslash-escapes '.', '_' and ')' inside bare URLs, but Markdown autolinks take text "
    "literally, so the backslashes show (and the link href is broken)"
)
LITERAL_TRICKY = {  # value: (test id, how an earlier renderer showed it wrongly)
    "[link](http://x)": ("md-link", AUTOLINK_BUG),
    "see http://example.com/a_b": ("url", AUTOLINK_BUG),
    "Title\n===": ("setext-heading", "'=' is not escaped: a line of '=' under text makes it a setext <h1>"),
    "$$x^2$$": ("latex", "'$' is not escaped: the Chatbot renders $$...$$ as LaTeX"),
}
FORMATTING = "a, h1, h2, h3, strong, em, code, pre, blockquote, ol, ul, table, .katex"


@pytest.fixture(scope="module")
def shown_as_typed(browser, url, bot) -> dict[str, tuple[str, int]]:
    """Every literal value asked in turn on one page: value -> (its bubble's text, formatting elements in it)."""
    values = [*LITERAL_OK, *LITERAL_TRICKY]
    session = Session(browser, url)
    history: list[dict] = []
    try:
        for n, value in enumerate(values, start=1):
            expected = bot.ask(value, history)  # what the page answers, given this page's history
            session.submit(value)
            session.wait_answer(n, expected)  # the user's bubble is rendered before its answer completes
            history += [{"role": "user", "content": value}, {"role": "assistant", "content": expected.text}]
        bubbles = session.page.locator(USER_MSG)
        expect(bubbles).to_have_count(len(values))
        return {
            value: (bubbles.nth(i).locator(".message-content").inner_text(), bubbles.nth(i).locator(FORMATTING).count())
            for i, value in enumerate(values)
        }
    finally:
        session.close()


@pytest.mark.parametrize(
    "value",
    [
        *LITERAL_OK,
        *(pytest.param(value, id=test_id) for value, (test_id, _) in LITERAL_TRICKY.items()),
    ],
)
def test_user_message_shown_exactly_as_typed(shown_as_typed, value):
    text, formatting = shown_as_typed[value]
    assert text == value
    assert formatting == 0


def test_no_request_leaves_loopback(session, bot):
    # Self-contained: this page alone makes requests, whatever else ran.
    session.submit(ICE)
    session.wait_answer(1, bot.ask(ICE))
    assert REQUESTS
    assert any("/gradio_api/" in u for u in REQUESTS)
    outside = []
    for u in REQUESTS:
        parts = urlsplit(u)
        if parts.scheme in ("data", "blob"):
            continue
        if not (u.startswith("http://127.0.0.1:") or u.startswith("ws://127.0.0.1:")) or parts.hostname != "127.0.0.1":
            outside.append(u)
    assert outside == []
