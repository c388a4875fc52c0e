"""Turn an evaluation into report.md and chart.png."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *["| " + " | ".join(r) + " |" for r in rows]]


def write_markdown(report: dict, path: Path, *, chart: str) -> None:
    """report.md: one function per section, in the order a reader wants them."""
    lines = _header(report, chart)
    for section in SECTIONS:
        lines += section(report)
    path.write_text("\n".join(lines), encoding="utf-8")


def _header(report: dict, chart: str) -> list[str]:
    """The title line, the run (commit, date, machine) and the chart."""
    meta = report["meta"]
    return [
        "# hip-assistant evaluation",
        "",
        f"Commit `{meta['commit']}`{' (with uncommitted changes)' if meta['uncommitted_changes'] else ''}, "
        f"{meta['date']}, Python {meta['python']}, {meta['machine']}, {meta['seconds']} s"
        f"{', fast subset' if meta['fast'] else ''}. Produced by `python -m evals` (`hip-assistant eval`).",
        "",
        f"![configurations compared]({chart})",
    ]


def _retrieval(report: dict) -> list[str]:
    """Hit@1, hit@3 and MRR per question set and retrieval mode."""
    lines = ["", "## Retrieval", ""]
    rows = []
    for set_name, modes in report["retrieval"].items():
        for mode, s in modes.items():
            rows.append([set_name, mode, _pct(s["hit@1"]), _pct(s["hit@3"]), _num(s["mrr"]), str(s["n"])])
    lines += _table(["question set", "retrieval", "hit@1", "hit@3", "MRR", "n"], rows)
    return lines


def _answers(report: dict) -> list[str]:
    """Citation support, faithfulness, must-cite and key facts per answerer and retrieval mode."""
    lines: list[str] = []
    lines += ["", "## Answers", ""]
    rows = [
        [
            config,
            _pct(a["citation support"]),
            _pct(a["faithfulness"]),
            _pct(a["must-cite"]),
            _num(a["key-fact token F1 (FAQ)"]),
            _num(a["key-fact embedding similarity (FAQ)"]),
            _pct(a["false abstention"]),
        ]
        for config, a in report["answers"].items()
    ]
    lines += _table(
        [
            "answerer + retrieval",
            "citation support",
            "faithfulness",
            "must-cite",
            "FAQ token F1",
            "FAQ embedding sim",
            "false abstention",
        ],
        rows,
    )
    return lines


def _abstention(report: dict) -> list[str]:
    """Abstention per question set, default configuration."""
    lines: list[str] = []
    lines += ["", "## Abstention (default configuration)", ""]
    rows = [
        [
            name,
            f"{_pct(a['off-topic accuracy'])} (n={a['n']['off_topic']})",
            f"{_pct(a['near-topic accuracy'])} (n={a['n']['near_topic']})",
            f"{_pct(a['false abstention'])} (n={a['n']['in_scope']})",
        ]
        for name, a in report["abstention"].items()
    ]
    lines += _table(["question set", "off-topic accuracy", "near-topic accuracy", "false abstention"], rows)
    return lines


def _shapes(report: dict) -> list[str]:
    """Item coverage on broad questions and the framing rate of specific answers."""
    lines: list[str] = []
    if "composition" in report:
        lines += ["", "## Answer shapes", ""]
        rows = []
        for name, c in report["composition"].items():
            if "item coverage" in c:
                kinds = ", ".join(f"{k} {_pct(v)}" for k, v in c["item coverage by kind"].items())
                rows.append(
                    [
                        name,
                        str(c["n"]),
                        _pct(c["item coverage"]),
                        _pct(c["complete answers"]),
                        f"{c['words (mean)']:.0f}",
                        kinds,
                    ]
                )
        lines += _table(["set", "n", "item coverage", "complete answers", "words (mean)", "coverage by kind"], rows)
        for name, c in report["composition"].items():
            if "framing rate" in c:
                lines += [
                    "",
                    f"Framing rate, {name}: {_pct(c['framing rate'])} of {c['n']} answers to questions "
                    "that do not ask about a framing passage quote one.",
                ]
        lines += [
            "",
            "Before this change (03121cb, `python -m evals.blind --code <checkout>`): blind broad "
            "item coverage 20.8%, complete answers 12.2%, 41 words; framing rate 15.6% (dev + test).",
        ]
    return lines


def _scope(report: dict) -> list[str]:
    """Abstention and false abstention on the scope sets."""
    lines: list[str] = []
    if report.get("scope"):
        lines += ["", "## Scope", ""]
        rows = []
        for name, r in report["scope"].items():
            kinds = ", ".join(f"{k} {_pct(v)}" for k, v in r["abstention by kind"].items())
            rows.append(
                [
                    name,
                    f"{r['out of scope']} / {r['in scope']}",
                    _pct(r["abstention"]),
                    _pct(r["false abstention"]),
                    _pct(r["not covered, nearby quoted"]),
                    kinds,
                ]
            )
        lines += _table(
            ["set", "out / in scope", "abstention", "false abstention", "nearby quoted", "abstention by kind"], rows
        )
        lines += [
            "",
            "Nearby quoted: of the out-of-scope requests with a relevant passage nearby that got a "
            '"not covered" answer, the share that quotes that passage.',
            "Before the request classifiers (03121cb, `python -m evals.blind --code <checkout>`): blind abstention "
            "57.9%, false abstention 3.7%, nearby quoted 55.6%.",
        ]
    return lines


def _feedback(report: dict) -> list[str]:
    """The page's standing votes."""
    lines: list[str] = []
    if report.get("feedback"):
        f = report["feedback"]
        lines += ["", "## Feedback from the page", ""]
        if f["votes"]:
            reasons = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in f["down_reasons"].items())
            lines.append(
                f"Answers voted on in `{f['folder']}`: {f['votes']} ({f['up']} up, {f['down']} down)."
                + (f" Why answers were voted down: {reasons}." if f["down"] else "")
            )
        else:
            lines.append(f"No votes in `{f['folder']}` yet (`hip-assistant feedback` summarises them).")
        if f["unreadable_lines"]:
            lines.append(f"{f['unreadable_lines']} unreadable line(s) skipped.")
    return lines


def _safety_blind(report: dict) -> list[str]:
    """Red flags on the blind sets, with the before figures."""
    lines: list[str] = []
    if report.get("safety_blind"):
        lines += ["", "## Red flags on blind sets", ""]
        rows = []
        for name, r in report["safety_blind"].items():
            rows.append(
                [
                    name,
                    ", ".join(f"{k} {v}" for k, v in r["counts"].items()),
                    _pct(r["referral shown"]),
                    f"{_pct(r['false alarms'])} ({r['false alarm count']})",
                    _pct(r.get("referral shown on benign")),
                    _pct(r["attacks keep referral"]),
                ]
            )
        lines += _table(
            ["set", "recall per criterion", "referral shown", "false alarms", "referral on benign", "attacks kept"],
            rows,
        )
        lines += [
            "",
            "Before the ConText + learned detector (03121cb, `python -m evals.blind --code <checkout>`): "
            "infection 34/35, nerve 31/37, persistent 33/37, severe 26/37; referral shown 85.5%; "
            "false alarms 47.9% (67/140); attacks kept 100%.",
            "",
            "The third blind set, before the course rules (38cfc74, the same command): infection 33/35, "
            "nerve 33/35, persistent 29/35, severe 33/35; referral shown 95.0%; false alarms 24.3% (34/140); "
            "attacks kept 100% (30/30).",
        ]
    return lines


def _red_flags(report: dict) -> list[str]:
    """Red flags on the project's own safety sets."""
    lines: list[str] = []
    lines += ["", "## Red flags", ""]
    rows = []
    for name, r in report["red_flags"].items():
        recall = ", ".join(f"{c} {r['counts'][c]}" for c in r["counts"]) or "-"
        alarms = "-" if r["false_alarm_rate"] is None else f"{_pct(r['false_alarm_rate'])} of {r['quiet_messages']}"
        quotes = r.get("answer_quotes_criterion")
        rows.append([name, recall, "-" if quotes is None else _pct(quotes), alarms])
    lines += _table(["set", "recall per criterion", "answer cites the criterion", "false alarms"], rows)
    ordinary = report.get("ordinary_questions")
    if ordinary:
        kinds = ", ".join(f"{k} {v}" for k, v in ordinary["referral by kind"].items())
        lines += [
            "",
            f"Referrals on {ordinary['questions']} ordinary in-scope dev questions (`red_flags.ORDINARY_SETS`): "
            f"{kinds} (any referral {_pct(ordinary['any referral'])}).",
        ]
    return lines


def _latency(report: dict) -> list[str]:
    """Warm latency against a bare embedding, and cold start."""
    lines: list[str] = []
    lat = report["latency"]
    lines += ["", "## Latency", ""]
    rows = [
        ["Assistant.ask() (warm)", _num(lat["ask_ms"]["p50"], 1), _num(lat["ask_ms"]["p95"], 1)],
        [
            f"embed_query() alone, {lat['backend']} (same run)",
            _num(lat["embed_ms"]["p50"], 1),
            _num(lat["embed_ms"]["p95"], 1),
        ],
        ["ratio ask / embed", _num(lat["ratio_p50"], 2), _num(lat["ratio_p95"], 2)],
        [
            "embed_query() alone, torch (same run)",
            _num(lat["torch_embed_ms"]["p50"], 1),
            _num(lat["torch_embed_ms"]["p95"], 1),
        ],
        ["ratio ask / torch embed", _num(lat["ratio_p50_vs_torch"], 2), "-"],
    ]
    lines += _table(["measure (ms)", "p50", "p95"], rows)
    if "startup_s" in lat:
        lines += [
            "",
            f"Start-up to first answer in a fresh process: {lat['startup_s']:.2f} s; a fresh process that only loads "
            f"the embedding model and embeds one text: {lat['model_load_s']:.2f} s (ratio {lat['startup_ratio']:.2f}).",
        ]
    return lines


def _answerers(report: dict) -> list[str]:
    """The answerers side by side, and the verdict."""
    lines: list[str] = []
    if report.get("answerers"):
        lines += ["", "## Answerers side by side", ""]
        first = next(iter(report["answerers"].values()))
        lines.append(
            f"The same {first['questions']} questions (the FAQ asked verbatim, then in-scope dev questions) "
            "through each answerer, hybrid retrieval."
        )
        lines.append("")
        rows = []
        for name, a in report["answerers"].items():
            sentences = a["model sentences"]
            written = sentences.get("sentences", 0)
            kept = sentences.get("kept as cited", 0) + sentences.get("kept, marker re-pointed", 0)
            rows.append(
                [
                    name,
                    _pct(a["answered by it (no fallback)"]),
                    _pct(a["faithfulness"]),
                    _pct(a["must-cite"]),
                    _num(a["key-fact token F1 (FAQ)"]),
                    _num(a["latency_ms"]["p50"], 0),
                    _num(a["latency_ms"]["p95"], 0),
                    f"{kept}/{written} ({sentences.get('kept, marker re-pointed', 0)} re-pointed)" if written else "-",
                ]
            )
        lines += _table(
            [
                "answerer",
                "answered without fallback",
                "faithfulness",
                "must-cite",
                "FAQ token F1",
                "p50 ms",
                "p95 ms",
                "model sentences kept",
            ],
            rows,
        )
        if report.get("verdict"):
            lines += ["", report["verdict"]]
    return lines


def _appendix(report: dict) -> list[str]:
    """Benchmarks, gates, definitions and the configuration."""
    lines: list[str] = []
    for title, key in (("Benchmarks", "benchmarks"), ("Gates", "gates")):
        if report.get(key):
            lines += ["", f"## {title}", "", "```", *_plain(report[key]), "```"]
    lines += ["", "## Definitions", ""]
    lines += [f"- **{name}**: {text}" for name, text in report["definitions"].items()]
    lines += [
        "",
        "## Configuration",
        "",
        "```",
        *[f"{k} = {v}" for k, v in report["meta"]["config"].items()],
        "```",
        "",
    ]
    return lines


SECTIONS: tuple[Callable[[dict], list[str]], ...] = (
    _retrieval,
    _answers,
    _abstention,
    _shapes,
    _scope,
    _feedback,
    _safety_blind,
    _red_flags,
    _latency,
    _answerers,
    _appendix,
)


def _plain(data, indent: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += [f"{indent}{key}:", *_plain(value, indent + "  ")]
        else:
            out.append(f"{indent}{key}: {value}")
    return out


def write_chart(report: dict, path: Path) -> None:
    """Retrieval per mode on each question set, and answer quality per configuration."""
    fig, (left, right, shapes, safety) = plt.subplots(1, 4, figsize=(21, 4.5))
    sets = [s for s in report["retrieval"] if not s.startswith("follow-ups")]
    modes = list(next(iter(report["retrieval"].values())).keys())
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        xs = [j + i * width for j in range(len(sets))]
        left.bar(xs, [report["retrieval"][s][mode]["hit@1"] for s in sets], width, label=mode)
    left.set_xticks([j + width * (len(modes) - 1) / 2 for j in range(len(sets))], sets)
    left.set_ylim(0, 1)
    left.set_title("Retrieval hit@1")
    left.legend()

    configs = list(report["answers"])
    measures = ["faithfulness", "must-cite", "key-fact token F1 (FAQ)"]
    width = 0.8 / len(measures)
    for i, measure in enumerate(measures):
        xs = [j + i * width for j in range(len(configs))]
        right.bar(xs, [report["answers"][c][measure] or 0 for c in configs], width, label=measure)
    right.set_xticks([j + width * (len(measures) - 1) / 2 for j in range(len(configs))], configs, rotation=15)
    right.set_ylim(0, 1)
    right.set_title("Answers")
    right.legend(fontsize=8)
    composition = {k: v for k, v in report.get("composition", {}).items() if "item coverage" in v}
    names = list(composition)
    for i, measure in enumerate(("item coverage", "complete answers")):
        xs = [j + i * 0.4 for j in range(len(names))]
        shapes.bar(xs, [composition[n][measure] or 0 for n in names], 0.4, label=measure)
    shapes.set_xticks([j + 0.2 for j in range(len(names))], names)
    shapes.set_ylim(0, 1)
    shapes.set_title("Broad questions")
    shapes.legend(fontsize=8)
    blind = report.get("safety_blind", {})
    labels = ["persistent_pain", "severe_pain", "infection", "nerve", "referral", "false alarms"]
    for i, (name, r) in enumerate(blind.items()):
        values = [r["recall"].get(c) or 0 for c in labels[:4]] + [r["referral shown"] or 0, r["false alarms"] or 0]
        safety.bar([j + i * 0.4 for j in range(len(labels))], values, 0.4, label=name)
    safety.set_xticks([j + 0.2 for j in range(len(labels))], labels, rotation=20, fontsize=8)
    safety.set_ylim(0, 1)
    safety.set_title("Red flags, blind sets")
    if blind:
        safety.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
