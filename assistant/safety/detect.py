"""Red flags in one message: rules and a learned detector, both judged by ConText.

* Rules (``rules``) catch the plain wordings. A rule hit is a detection when
  the learned detector does not rule its clause and sentence out
  (``Detector.RULE_CONFIRM``): "feverish with excitement" uses the word
  for something else, and is left an unsure referral.
* The learned detector (``learned``) reads every clause the rules did not
  explain, in any wording its examples taught it ("like ants crawling",
  "38.7", "couldnt even make it to the bus stop").
* ``context`` cancels a mention only when a modifier's scope covers it: a
  negation, a past episode, a hypothetical or a question about the signs,
  another person, another body part or a harmless cause (ice, cold).
* The message's account of the course (``_course_rules_out``) rules a
  criterion out: pain "easing every day" does not persist, numbness that
  "goes back to normal" after it was mentioned is transient, and "totally
  fine now" ends a complaint, unless the message says something persists.

The whole message is read, clause by clause, however long it is (up to
``MAX_CLAUSES`` clauses for the learned detector; the rules read all of it).
A clause the detector is unsure about makes the finding ``possible``: the
referral is then shown with all four criteria, without claiming a match.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from . import context
from .learned import LearnedDetector
from .names import RED_FLAGS, Criterion
from .normalize import _SENTENCE_SPLIT, Normalized, _spans
from .rules import NOT_BETTER, OTHER_LANGUAGE_RULES, PAIN_WORD, RULES


@dataclass(frozen=True)
class Detection:
    """One red flag found in a message, and the words that triggered it."""

    criterion: Criterion
    trigger: str
    method: str
    """'rule' or 'learned'."""
    score: float = 1.0


@dataclass(frozen=True)
class _RuleHit:
    """A rule's match, waiting for the learned detector's word on its clause and sentences."""

    criterion: Criterion
    clause: tuple[int, int]
    sentence: tuple[int, int]
    trigger: str
    before: tuple[int, int]
    """The sentence before and this one: what a rule needs may be said there ("The pain started in spring. It's
    now midsummer.")."""


@dataclass(frozen=True)
class Finding:
    """What one message reports."""

    detections: tuple[Detection, ...] = ()
    possible: tuple[Criterion, ...] = ()
    """Criteria a clause comes near without a confident detection."""


LEARNED_DEFERS_TO = frozenset(
    {
        "negated",
        "historical",
        "hypothetical",
        "other_experiencer",
        "elsewhere",
        "benign_cause",
        "figurative",
        "measures_other",
    }
)
"""Modifiers that keep a clause from the learned detector, which leaves such clauses to the rules:
letting it judge negated clauses itself doubled its false alarms on the dev sets (9 against 3 of 253)."""


class Detector:
    CONFIDENT = 0.6
    """Learned probability for a detection ("What you describe matches ...")."""
    POSSIBLE = 0.3
    """Learned probability for showing the referral anyway, with all four criteria."""
    RULE_CONFIRM = 0.1
    """Learned probability (of the rule's clause or its sentence) a rule hit needs to be a detection.

    Below it the hit counts as possible: the referral is still shown, without claiming a match. The rules'
    words are also used for other things ("feverish with excitement", "mileage has been hot and cold",
    "the treadmill's belt keeps giving way"). On the helper-written dev sets (dev2-dev4) this turned 7 of
    36 false alarms into unsure referrals and cost one detection ("is it normal that I can't put any weight
    on my hip", still shown the referral); judging the sentence as well as the clause keeps
    "4 wks no runs, nothing changed" a detection where the clause alone says too little."""
    RULE_CONFIRM_BY: ClassVar[dict[Criterion, float]] = {"persistent_pain": 0.03}
    """Lower for persistent pain: its rules need a pain word and a span or a course beside it, and the learned
    detector reads spans told by events ("from January to mid March", "it's now midsummer") as little. On the
    dev sets 0.03 kept three such reports (dev 11 and 12) and added one false alarm, a question about the
    criteria, which the question opener "at what point" now covers."""
    MAX_CLAUSES = 400
    """Clauses of one message the learned detector reads (a few pages of text); rules read everything."""
    MIN_WORDS = 4
    """Shorter pieces ("of my hip" after "because") carry too little for the learned detector."""

    def __init__(self, learned: LearnedDetector | None) -> None:
        self.learned = learned

    @staticmethod
    def _defers(mod: context.Modifier, text: str, a: int, b: int) -> bool:
        """Does this modifier keep the clause text[a:b] from the learned detector?"""
        if mod.kind not in LEARNED_DEFERS_TO or not (mod.scope[0] < b and a < mod.scope[1]):
            return False
        if mod.kind == "measures_other" and context.says(text[a:b], "persists"):
            return False  # "after three weeks off the hip is still every bit as bad": the span is the complaint's
        return not (mod.kind == "other_experiencer" and _writer_too(text, mod, a, b))

    def detect(self, text: str) -> Finding:
        norm = Normalized.of(text)
        found: dict[Criterion, Detection] = {}
        last: dict[Criterion, int] = {}  # where each criterion's last mention ends
        candidates: list[tuple[int, int]] = []
        infection_elsewhere: set[tuple[int, int]] = set()
        ruled: list[_RuleHit] = []
        others: list[tuple[int, int]] = []  # what is said of someone else ("my friend got better in 2 weeks")
        sentences = _spans(norm.text, _SENTENCE_SPLIT, 0, len(norm.text))
        for k, (s_start, s_end) in enumerate(sentences):
            mods = context.modifiers(norm.text, s_start, s_end)
            others += [m.scope for m in mods if m.kind == "other_experiencer"]
            # What a rule needs beside its match may be said in the sentence next to it: "hip still bad.
            # 4 wks no runs, foam rolled evry day, nothing changed tbh."
            near = norm.text[sentences[max(k - 1, 0)][0] : sentences[min(k + 1, len(sentences) - 1)][1]]
            cuts = context.boundaries(norm.text, s_start, s_end)
            explained: list[int] = []
            for rule in RULES:
                if rule.needs and not rule.needs.search(near):
                    continue
                for match in rule.pattern.finditer(norm.text, s_start, s_end):
                    if context.covering(mods, match.start(), match.end(), rule.criterion):
                        continue
                    explained.append(match.start())
                    last[rule.criterion] = max(last.get(rule.criterion, 0), match.end())
                    clause = next((a, b) for a, b in itertools.pairwise(cuts) if a <= match.start() < b)
                    trigger = norm.original(match.start(), match.end())
                    ruled.append(
                        _RuleHit(
                            rule.criterion,
                            _trim(norm.text, *clause),
                            _trim(norm.text, s_start, s_end),
                            trigger,
                            # Persistence is told across sentences ("The pain started in spring. It's now
                            # midsummer."); the other criteria in the sentence that names them.
                            _trim(
                                norm.text,
                                sentences[max(k - 1, 0)][0] if rule.criterion == "persistent_pain" else s_start,
                                s_end,
                            ),
                        )
                    )
            for raw_a, raw_b in itertools.pairwise(cuts):
                if any(raw_a <= p < raw_b for p in explained):
                    continue
                a, b = _trim(norm.text, raw_a, raw_b)
                if b <= a or len(norm.text[a:b].split()) < self.MIN_WORDS:
                    continue
                if any(self._defers(m, norm.text, a, b) for m in mods):
                    continue  # another time, person, place or a hypothetical: left to the rules
                if context.asks(norm.text[a:b]):
                    continue  # "is there anything I can do to get back out there": a question reports nothing
                if context.says(norm.text[a:b], "recovered") or _FINE.fullmatch(norm.text, a, b):
                    continue  # "I'm walking normally", "fine today", "my leg feels strong": no complaint in it
                candidates.append((a, b))
                if any(m.kind in context.INFECTION_ONLY and m.scope[0] < b and a < m.scope[1] for m in mods):
                    infection_elsewhere.add((a, b))
        possible: list[Criterion] = []
        if self.learned is None:
            for hit in ruled:
                found.setdefault(hit.criterion, Detection(hit.criterion, hit.trigger, "rule"))
        else:
            spans = candidates[: self.MAX_CLAUSES]
            # The rule hits' clauses and sentences are read in the same batch as the candidate clauses.
            checked = {
                span: len(spans) + i
                for i, span in enumerate(
                    dict.fromkeys(span for hit in ruled for span in (hit.clause, hit.sentence, hit.before))
                )
            }
            probs = self.learned.probabilities([norm.text[a:b] for a, b in [*spans, *checked]])
            for hit in ruled:
                at = RED_FLAGS.index(hit.criterion)
                rows = [checked[span] for span in (hit.clause, hit.sentence, hit.before)]
                score = max(float(probs[row, at]) for row in rows)
                # A clause the learned detector reads, confidently, as another criterion is a complaint all the
                # same: "I can't lift my leg into the car anymore" reads as severe pain; the rule says weakness.
                complaint = max(float(probs[row].max()) for row in rows) >= self.CONFIDENT
                if score >= self.RULE_CONFIRM_BY.get(hit.criterion, self.RULE_CONFIRM) or complaint:
                    found.setdefault(hit.criterion, Detection(hit.criterion, hit.trigger, "rule", score))
                elif hit.criterion not in possible:
                    possible.append(hit.criterion)
            for i, name in enumerate(RED_FLAGS):
                if not spans:
                    break
                column = probs[: len(spans), i].copy()
                if name == "infection":  # a swollen ankle or a wasp sting is not the hip joint
                    column[[j for j, span in enumerate(spans) if span in infection_elsewhere]] = 0.0
                best = int(column.argmax())
                score = float(column[best])
                if score >= self.POSSIBLE:
                    ends = [b for (_, b), p in zip(spans, column, strict=True) if p >= self.POSSIBLE]
                    last[name] = max(last.get(name, 0), *ends)
                if score >= self.CONFIDENT and name not in found:
                    a, b = spans[best]
                    found[name] = Detection(name, norm.original(a, b), "learned", score)
                elif score >= self.POSSIBLE and name not in found and name not in possible:
                    possible.append(name)
            possible = [p for p in possible if p not in found]
        improving = _improving_from(norm.text, others)
        for name in _course_rules_out(norm.text, last, improving):
            found.pop(name, None)
            possible = [p for p in possible if p != name]
        for name in _doubted(norm.text, found, improving):
            del found[name]
            possible.append(name)
        possible += [c for c in _other_language(norm.text) if c not in found and c not in possible]
        return Finding(tuple(found[c] for c in RED_FLAGS if c in found), tuple(possible))


_FINE = re.compile(
    r"(?:(?:and|but|so) )?(?:my |the |both )?(?:legs?|hips?|foot|feet|thighs?|knees?) (?:feels?|felt|is|are|seems?|looks?)"
    r" (?:\w+ )?(?:strong|stronger|fine|normal|ok|okay|good|solid|great)"
)
"""A clause that only says a body part is well ("my leg feels strong"): nothing in it to read for a red flag."""


def _other_language(text: str) -> list[Criterion]:
    """Criteria a message names in another language ("fiebre", "Kribbeln im Bein"): the referral is shown, as for
    an unsure reading, since neither the rules nor ConText read those languages."""
    return [
        rule.criterion
        for rule in OTHER_LANGUAGE_RULES
        if rule.pattern.search(text) and (rule.needs is None or rule.needs.search(text))
    ]


def _course_rules_out(text: str, last: dict[Criterion, int], improving: int) -> list[Criterion]:
    """Criteria the message's own account of the course rules out.

    Pain that is getting better is not pain that persists despite rest, unless the message also says it
    is not better or still hurts. After the last mention of a complaint, numbness or tingling that goes
    back to normal (after the ice, once standing up) is transient, and "I'm totally fine now" ends any
    complaint, unless something about it persists ("still", "for hours", "every run"). The order
    matters: "I was fine, but now I can't walk" is a report. `improving`: where the message says its pain is getting
    better (``_improving_from``).
    """
    out: list[Criterion] = []
    if improving >= 0:
        out.append("persistent_pain")
    if context.says(text, "persists"):
        return out
    for name, end in last.items():
        if context.says(text, "recovered", end) or (name == "nerve_symptoms" and context.says(text, "resolves", end)):
            out.append(name)
    return out


def _improving_from(text: str, others: Sequence[tuple[int, int]] = ()) -> int:
    """Where the message says its pain is getting better, -1 when it says nothing of it or also says it is not;
    unless the improvement comes last, past a "but": "hips still sore a week after a 50k but improving every
    day". What is said of someone else (`others`, their modifiers' scopes) is their course, not the writer's."""
    at = [i for i in context.statements(text, "improving") if not any(a <= i < b for a, b in others)]
    if not at:
        return -1
    worse = [m.start() for m in NOT_BETTER.finditer(text)]
    if not worse:
        return at[0]
    last = at[-1]
    if max(worse) < last and _CONTRAST.search(text, max(worse), last):
        return last
    return -1


_CONTRAST = re.compile(r"\b(?:but|though|although|yet|however)\b")


def _doubted(text: str, found: dict[Criterion, Detection], improving: int) -> list[Criterion]:
    """Detections the message itself casts doubt on: the referral is shown, without claiming a match.

    Persistent pain told over a week or a few days, and no longer, is a doubt. A learned persistent-pain
    detection in a message with no word for pain and nothing saying it is not getting
    better is a length of time, not pain that persists ("Been running 6 weeks, loving it!"), and a learned infection
    detection with no word for a sign of infection is a pain the classifier misread ("my hip is throbbing").
    Soreness after a race or a gym session is told in the words of severe pain ("stairs are comical", "walking like
    a cowboy") and of its course ("getting easier each day", "already looser"): severe pain whose course is
    improving, with nothing that persists, is doubted too.
    """
    out: list[Criterion] = []
    duration = found.get("persistent_pain")
    if duration and (
        (duration.method == "learned" and not PAIN_WORD.search(text) and not NOT_BETTER.search(text))
        or (_SHORT_SPAN.search(text) and not _LONG_SPAN.search(text))
    ):
        out.append("persistent_pain")  # once: the caller removes each doubted criterion from the findings
    infection = found.get("infection")
    if infection and infection.method == "learned" and not INFECTION_WORD.search(text):
        out.append("infection")
    if "severe_pain" in found and improving >= 0 and not context.says(text, "persists", improving):
        out.append("severe_pain")
    return out


_SHORT_SPAN = re.compile(
    r"\b(?:for|after|in|over|of)\s+(?:(?:just|only|about|around)\s+)?(?:a|one|1|a single|a whole|a full)\s+(?:week|wk)\b"
    r"|\b(?:for|after|in|over|of)\s+(?:(?:just|only|about|around)\s+)?(?:a few|a couple of|couple|two|three|four|five|six"
    r"|several|\d)\s+days\b|\b(?:a|one|1)[- ](?:week|wk)\b"
)
_LONG_SPAN = re.compile(
    r"\b(?:weeks|wks|months?|mths|fortnight|years?|ages|forever|since|season|january|february|march|april|may|june"
    r"|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|easter"
    r"|christmas)\b|\b(?:1[4-9]|[2-9]\d)\s+days\b"
)
"""Pain that has lasted a week or days, not the "few weeks" the article's criterion asks for: when that is all
the message says of its course ("iced it and rested for a week but my hip still hurts"), a doubt, not a match."""

INFECTION_WORD = re.compile(
    r"\b(?:fever\w*|temp|temps|temperature|\d\d(?:[.,]\d)?\s*(?:°|degrees?|c|f)|chills?|shiver\w*|sweats?|sweating|clammy"
    r"|hot|warm|warmth|heat|red|redness|reddish|pink|pinkish|swollen|swelling|swell\w*|puff\w*|inflamed|inflammation"
    r"|lump|bump|pus|weeping|ooz\w*|rash|shiny|balloon\w*|bigger|burning up|infect\w*|sick|unwell|flu-?like)\b"
)
"""A word for a sign of infection (fever, heat, redness, swelling): a learned infection reading without one ("my hip
is throbbing") is a doubt, not a match."""


def _writer_too(text: str, mod: context.Modifier, a: int, b: int) -> bool:
    """Does the clause text[a:b] speak of the writer outside another person's mention?
    "I'm using my kid's scooter", "my husband had to carry me": the symptom is the writer's."""
    return any(
        not (mod.start <= m.start() and m.end() <= mod.end) and not context.names_them(text, mod.end, m)
        for m in context.FIRST_PERSON.finditer(text, a, b)
    )


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and not text[a].isalnum():
        a += 1
    while b > a and not text[b - 1].isalnum():
        b -= 1
    return a, b
