"""``hip-assistant``: ask, chat and index from the terminal.

A thin front door: every command goes through ``Assistant``; nothing here
retrieves, answers or judges safety on its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import plain, texts
from .answer import Answer, Referral
from .errors import HipAssistantError
from .settings import SettingsError

if TYPE_CHECKING:
    from .store.builder import Progress

EXIT_USAGE = 2
KNOWN_ERRORS = (HipAssistantError, FileNotFoundError)


def format_referral(referral: Referral, *, width: int = 88, color: bool = False) -> str:
    """A bordered panel with colour on a terminal (rich); the plain text, wrapped, when piped."""
    body = [textwrap.fill(line, width=width - 4, subsequent_indent="  ") for line in referral.text.split("\n")[1:]]
    if not color:
        if referral.kind == "reminder":
            return textwrap.fill(referral.text, width=width)
        return "\n".join([f"** {referral.heading} **", *body])
    from rich.console import Console
    from rich.panel import Panel

    console = Console(width=width, force_terminal=True, color_system="standard", record=False)
    style = "red" if referral.kind == "flagged" else "yellow"
    panel = (
        Panel(referral.text, border_style=style, width=width)
        if referral.kind == "reminder"
        else Panel("\n".join(body), title=referral.heading, title_align="left", border_style=style, width=width)
    )
    with console.capture() as captured:
        console.print(panel)
    return captured.get().rstrip("\n")


def format_answer(answer: Answer, *, width: int = 88, color: bool = False) -> str:
    """The answer for a terminal: referral set apart, then the text, then its sources with the whole chunk."""
    return plain.answer_text(
        answer,
        width=width,
        whole_chunk=True,
        referral=lambda referral: format_referral(referral, width=width, color=color),
    )


def _progress(total: int, label: str) -> Progress:
    from tqdm import tqdm

    bar: Progress = tqdm(total=total, desc=label, unit="text", file=sys.stderr)  # tqdm is untyped here
    return bar


def cmd_ask(args: argparse.Namespace) -> int:
    from .core import Assistant

    answer = Assistant().ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer, color=sys.stdout.isatty()))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .core import Assistant

    bot = Assistant()
    history: list[dict[str, str]] = []
    print(texts.SCOPE_LINE)
    print(texts.DISCLAIMER)
    print("Type a question; an empty line or Ctrl-D ends the chat.\n")
    while True:
        try:
            question = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question or question.lower() in ("exit", "quit"):
            return 0
        answer = bot.ask(question, history=history)
        print()
        print(textwrap.indent(format_answer(answer, color=sys.stdout.isatty()), "  "))
        print()
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def cmd_index(args: argparse.Namespace) -> int:
    from .embeddings import embeddings_for
    from .settings import load_settings
    from .store import Index

    settings = load_settings()
    index = Index(settings, embeddings_for(settings))
    reasons = ["rebuild requested"] if args.rebuild else index.stale_reasons()
    if reasons:
        print(f"Building the index at {index.location} ({'; '.join(reasons)})", file=sys.stderr)
    manifest = index.ensure(rebuild=args.rebuild, progress=_progress)
    state = "built" if reasons else "already up to date"
    print(
        f"Index {state} at {index.location}: {manifest.chunks} chunks, {manifest.sentences} sentences "
        f"(corpus {manifest.corpus_hash[:12]}, model {manifest.model}, chunking v{manifest.chunking_version})"
    )
    return 0


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise SettingsError("--auth takes user:password (both non-empty)")
    return user, password


def cmd_serve(args: argparse.Namespace) -> int:
    from .core import Assistant
    from .settings import load_settings
    from .web import serve
    from .workers import use_workers

    settings = load_settings()
    host = args.host or settings.server_host
    port = args.port or settings.server_port
    auth = parse_auth(args.auth)
    bot = Assistant(settings)
    workers = use_workers(bot, args.workers or settings.workers)
    print(
        f"hip-assistant page on http://{host}:{port}/, API on http://{host}:{port}/v1/"
        + (f", answers in {workers.count} worker processes" if workers else "")
        + "  (Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    serve(bot, host=host, port=port, auth=auth, concurrency=settings.web_concurrency, mcp=args.mcp)
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from .feedback import FeedbackStore, export_csv, standing, summarize, summary_text
    from .settings import load_settings

    store = FeedbackStore(args.dir or load_settings().feedback_dir)
    lines, unreadable = store.lines()
    votes = standing(lines)
    if args.export:
        out = args.out or Path(f"feedback.{args.export}")
        rows = export_csv(votes, out)
        print(f"Wrote {rows} vote(s) to {out}", file=sys.stderr)
        return 0
    summary = summarize(votes, unreadable=unreadable)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(f"Feedback in {store.folder}")
        print(summary_text(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hip-assistant",
        description=f"{texts.SCOPE_LINE} {texts.DISCLAIMER}",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the assistant does")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (Answer.to_dict())")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal")
    chat.set_defaults(func=cmd_chat)

    serve = sub.add_parser("serve", help="start the chat page (127.0.0.1:7860 unless told otherwise)")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, help="port (default 7860)")
    serve.add_argument("--auth", metavar="USER:PASSWORD", help="require this login")
    serve.add_argument("--mcp", action="store_true", help="also serve the MCP tool 'ask' at /mcp (streamable HTTP)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="compute answers in N processes sharing the index (default HIP_WORKERS, 1: in the server's process)",
    )
    serve.set_defaults(func=cmd_serve)

    feedback = sub.add_parser("feedback", help="summarise the page's votes on answers, or export them")
    feedback.add_argument("--dir", type=Path, help="folder of the vote files (default: HIP_FEEDBACK_DIR)")
    feedback.add_argument("--export", choices=["csv"], help="write the votes as a spreadsheet instead")
    feedback.add_argument("--out", type=Path, help="file to export to (default feedback.csv)")
    feedback.add_argument("--json", action="store_true", help="print the summary as JSON")
    feedback.set_defaults(func=cmd_feedback)

    sub.add_parser("eval", help="run the evaluation (see `hip-assistant eval --help`)")

    index = sub.add_parser("index", help="build the index, or check it is up to date")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")
    index.set_defaults(func=cmd_index)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["eval"]:
        # The evaluation has its own options (thresholds, --fast): it parses them itself.
        from evals.run import main as run_eval

        return run_eval(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("assistant").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        func: Callable[[argparse.Namespace], int] = args.func  # a cmd_* function (set_defaults)
        return func(args)
    except KNOWN_ERRORS as exc:
        print(f"hip-assistant: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
