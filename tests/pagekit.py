"""Fixtures for the chat page in a browser, loaded as a plugin by conftest.py.

Headless Debian Chromium through Playwright; tests that use ``browser`` skip
when either is missing. Every request any page makes is recorded in REQUESTS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # the browser fixture skips the tests that need it
    Page = expect = sync_playwright = None  # type: ignore[assignment]


ROOT = Path(__file__).resolve().parent.parent
# Saved outside the tracked tree (test-artifacts/ is git-ignored); docs/screenshot*.png are copied from them by hand.
SCREENSHOT = ROOT / "test-artifacts" / "screenshot.png"
SCREENSHOT_PHONE = ROOT / "test-artifacts" / "screenshot-phone.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
WAIT = 30_000  # ms: the longest any explicit wait may take

SECTION_TREATMENT = "Treatment Options for Hip Pain from Running"
ICE_CHUNK = "hip-pain-from-running/treatment-options/1-rest-and-ice"
ICE = "How long should I ice my hip?"
FAQS = (
    "Can running cause hip arthritis?",
    "How long should I rest if I have hip pain from running?",
    "Are there specific stretches for hip pain from running?",
    "Can I continue running with hip pain?",
    "What are the best shoes for preventing hip pain?",
)

TEXTBOX = "#hip-question textarea"
ASK = "#hip-ask"
CHAT = "#hip-chat"
USER_MSG = '#hip-chat [data-testid="user"]'
BOT_MSG = '#hip-chat [data-testid="bot"]'

REQUESTS: list[str] = []  # every URL any page of this module requested (or opened a socket to)


@pytest.fixture(scope="module")
def url(page_url):
    return page_url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (CI installs it: apt-get install chromium)")
    if sync_playwright is None:
        pytest.skip("playwright is missing (CI installs it: pip install -e '.[test]')")
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


class Session:
    """One browser context on the page: its own Gradio session, requests recorded, dialogs caught."""

    def __init__(self, browser, url: str, *, width: int = 1280, height: int = 900) -> None:
        self.url = url
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, permissions=["clipboard-read", "clipboard-write"]
        )
        self.context.on("request", lambda request: REQUESTS.append(request.url))
        self.dialogs: list[str] = []
        self.page: Page = self.context.new_page()
        self.page.on("websocket", lambda ws: REQUESTS.append(ws.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(url, wait_until="domcontentloaded", timeout=WAIT)
        self.page.wait_for_selector(TEXTBOX, state="visible", timeout=WAIT)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def submit(self, question: str, *, click: bool = True) -> None:
        self.page.fill(TEXTBOX, question)
        if click:
            self.page.click(ASK)
        else:
            self.page.press(TEXTBOX, "Enter")

    def last_bot(self):
        return self.page.locator(BOT_MSG).last

    def last_user(self):
        return self.page.locator(USER_MSG).last

    def wait_answer(self, n: int, answer) -> None:
        """Wait until the n-th bot message shows the complete `answer` (an ``Answer``)."""
        expect(self.page.locator(BOT_MSG)).to_have_count(n, timeout=WAIT)
        message = self.page.locator(BOT_MSG).nth(n - 1)
        expect(message.locator(".hip-answer")).to_have_text(shown_text(answer.text), timeout=WAIT)
        if answer.citations:  # the Sources block is added only once the stream is complete
            expect(message.locator(".hip-sources")).to_have_count(1, timeout=WAIT)

    def close(self) -> None:
        self.context.close()


def shown_text(text: str) -> str:
    """What the page shows of an answer's text: bullets as list items, no Markdown markup."""
    lines = [line[2:] if line.startswith("- ") else line for line in text.replace("**", "").split("\n")]
    return " ".join(line for line in lines if line.strip())


@pytest.fixture
def open_session(browser, url):
    sessions: list[Session] = []

    def _open(**viewport: int) -> Session:
        sessions.append(Session(browser, url, **viewport))
        return sessions[-1]

    yield _open
    for session in sessions:
        session.close()


@pytest.fixture
def session(open_session) -> Session:
    return open_session()
