// The chat page's behaviour in the browser (loaded into <head> by assistant/web.py).
// Messages arrive as sanitized HTML, which keeps no inline handlers, so every action here is
// delegated from the document: [n] markers open their source, Copy buttons copy plain text,
// the typed question is kept across reloads, and a banner says when the server is unreachable.
(() => {
  "use strict";
  const DRAFT_KEY = "hip-assistant-draft";
  const CHECK_EVERY_MS = 4000;

  const box = () => document.querySelector("#hip-question textarea");
  const chat = () => document.getElementById("hip-chat");

  // ------------------------------------------------------------ citations
  function openSource(id) {
    const item = document.getElementById(id);
    if (!item) return false;
    const details = item.closest("details");
    if (details) details.open = true;
    document.querySelectorAll(".hip-source.hip-current").forEach((el) => el.classList.remove("hip-current"));
    item.classList.add("hip-current");
    item.scrollIntoView({ block: "nearest" });
    item.focus({ preventScroll: true });
    return true;
  }

  // ------------------------------------------------------------ copying
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      const done = document.execCommand("copy");
      area.remove();
      return done;
    }
  }

  function confirmCopied(button, label) {
    const original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    setTimeout(() => { button.textContent = original; }, 1500);
  }

  // One message as plain text: the user's words as typed, or the answer's own plain-text form.
  function messageText(message) {
    const plain = message.querySelector(".hip-plain");
    if (plain) return plain.textContent;
    const user = message.querySelector(".hip-user");
    return (user || message).innerText.trim();
  }

  window.hipConversationText = () => {
    const messages = document.querySelectorAll('#hip-chat [data-testid="user"], #hip-chat [data-testid="bot"]');
    return [...messages]
      .map((m) => `${m.dataset.testid === "user" ? "You" : "Assistant"}:\n${messageText(m)}`)
      .join("\n\n");
  };

  window.hipCopyConversation = async () => {
    const button = document.getElementById("hip-copy-all");
    const text = window.hipConversationText();
    if (text && (await copyText(text)) && button) confirmCopied(button, "Copied");
    return [];
  };

  document.addEventListener(
    "click",
    (event) => {
      const marker = event.target.closest("a.hip-marker");
      if (marker) {
        event.preventDefault();
        event.stopPropagation();
        openSource(marker.getAttribute("href").slice(1));
        return;
      }
      const copy = event.target.closest("button.hip-copy");
      if (copy) {
        const plain = copy.parentElement.querySelector(".hip-plain");
        if (plain) copyText(plain.textContent).then((ok) => ok && confirmCopied(copy, "Copied"));
        return;
      }
      if (event.target.closest("#hip-ask")) checkServer();
    },
    true,
  );

  // ------------------------------------------------------------ the typed question survives
  document.addEventListener("input", (event) => {
    if (event.target === box()) localStorage.setItem(DRAFT_KEY, event.target.value);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target === box() && event.key === "Enter" && !event.shiftKey) checkServer();
  });

  function restoreDraft() {
    const area = box();
    const draft = localStorage.getItem(DRAFT_KEY);
    if (area && draft && !area.value) {
      area.value = draft;
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function forgetSentDraft() {
    const draft = (localStorage.getItem(DRAFT_KEY) || "").trim();
    if (!draft) return;
    const users = document.querySelectorAll('#hip-chat [data-testid="user"] .hip-user');
    const last = users.length ? users[users.length - 1].innerText.trim() : "";
    const area = box();
    if (last === draft && area && !area.value.trim()) localStorage.removeItem(DRAFT_KEY);
  }

  // ------------------------------------------------------------ reading position
  // Each new question is scrolled to the top of the conversation, so its answer is read from
  // its first line (a warning's heading first), not from the end.
  function scroller(el) {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
    }
    return null;
  }

  let seenUsers = 0;
  function showNewest() {
    const users = document.querySelectorAll('#hip-chat [data-testid="user"]');
    if (users.length > seenUsers) {
      const newest = users[users.length - 1];
      const pane = scroller(newest);
      if (pane) {
        const offset = newest.getBoundingClientRect().top - pane.getBoundingClientRect().top;
        pane.scrollTop += offset - 8;
      }
    }
    seenUsers = users.length;
  }

  // ------------------------------------------------------------ server reachability
  let checking = false;
  async function checkServer() {
    if (checking) return;
    checking = true;
    const banner = document.getElementById("hip-status");
    let up = false;
    try {
      const response = await fetch(new URL("gradio_api/app_id", document.baseURI), { cache: "no-store" });
      up = response.ok;
    } catch (error) {
      up = false;
    }
    if (banner) banner.hidden = up;
    checking = false;
  }

  function start() {
    const pane = chat();
    if (!pane || !box()) {
      setTimeout(start, 200);
      return;
    }
    restoreDraft();
    new MutationObserver(() => {
      showNewest();
      forgetSentDraft();
    }).observe(pane, { childList: true, subtree: true });
    setInterval(() => document.visibilityState === "visible" && checkServer(), CHECK_EVERY_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
