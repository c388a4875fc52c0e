"""Is a mentioned finding present? ConText over the normalized text (Chapman 2001; Harkema 2009).

Each modifier found in a sentence (negated, historical, hypothetical,
another person's, another body part or a harmless cause) has a direction and
a scope: forward from it, back to it, or both, never past a clause boundary
("but", "as", "because", a comma, a dash). A mention is cancelled only by a
modifier whose scope covers it, so "My GP said I'm totally fine but my foot
still goes numb" keeps the numbness, and "Didn't finish as my foot went
numb" is not negated by "didn't". The lexicon is data:
``assistant/data/context_modifiers.tsv``.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

from .. import datafiles
from .names import Criterion

Kind = Literal[
    "negated",
    "historical",
    "hypothetical",
    "other_experiencer",
    "elsewhere",
    "elsewhere_infection",
    "benign_cause",
    "pseudo",
    "figurative",
    "measures_other",
    "question",
    "first_person",
    "infection_cause",
    "illness",
    "improving",
    "resolves",
    "recovered",
    "persists",
]
PHRASE_KINDS = frozenset({"figurative", "measures_other"})
"""The whole phrase is the modifier and its own scope: a mention inside "dead on my feet" is a figure of speech,
and a span of time inside "the marathon is in 3 weeks", "a 200 day streak" or "running since 2 years" measures
something else than the complaint."""
SENTENCE_KINDS = frozenset({"question", "first_person"})
"""Read once per sentence: a question that opens like "Could ..." and says nothing of "my" or "I have"
asks about the signs and reports none (a hypothetical over the whole sentence)."""
COURSE_KINDS = frozenset({"improving", "resolves", "recovered", "persists"})
"""The course of a complaint, read over the whole message by ``says`` rather than as a clause's modifier."""
INFECTION_ONLY = frozenset({"elsewhere_infection", "infection_cause", "illness"})
"""Rule out only the hip infection: a swollen ankle, a sting or sunburn are red and swollen too, and a fever
with the flu is the flu's."""
_HIP_NAMED = re.compile(
    r"\b(?:hips?|joints?|groin)\b(?!\s+(?:are|is|feel|feels|felt|were|was)\s+(?:fine|ok|okay|good|normal)\b)"
)
"""An illness explains a fever only in a sentence that does not name the hip: "I have the flu and my hip is
red and swollen" still reports the signs of infection."""
Direction = Literal["forward", "backward", "both"]
_KINDS: tuple[Kind, ...] = get_args(Kind)
_DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

# A parenthesis is an aside, but not one that holds a number only: "my dad (62) has had hip pain", "ages ago
# (2018) i had a hip infection": an age or a year belongs to its sentence.
_PARENTHESIS = r"\((?!\d{1,4}\))|(?<!\(\d)(?<!\(\d\d)(?<!\(\d\d\d)(?<!\(\d\d\d\d)\)"

# Where a backward modifier ("... and I honestly don't") stops: only a sentence-level break, since
# what it denies is often a list ("any numbness, tingling or weakness"). A parenthesis is an aside and
# "and then" a new event: "(... if that matters), and then I started feeling feverish" is no hypothetical. "Now"
# turns to the present, but not before the cause it gives: "numb right now because of the ice".
STRONG_TERMINATOR = re.compile(
    r"(?<!\d)\.|\.(?!\d)|[!?;\n]|"
    + _PARENTHESIS
    + r"|\s[-\u2013\u2014]+\s|\b(?:but|however|although|though|altho|tho|yet)\b"
    r"|\b(?:and )?now\b(?!\s+(?:because|cause|cuz|from|after)\b)|\bstill\b|\band then\b|\b(?:has|have) (?:gone|become|turned|got|gotten)\b"
)
# Another person's story ends where the writer turns to themselves ("... help me climb", "and mine tingles").
FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself)\b")

# Clause boundaries: punctuation (a decimal point, "38.9", is none), a spaced dash, and words that start a new clause.
TERMINATOR = re.compile(
    r"(?<!\d)\.|\.(?!\d)|[!?;:,\n]|" + _PARENTHESIS + r"|\s[-\u2013\u2014]+\s"
    r"|\b(?:but|however|although|though|altho|tho|yet|except|as|because|cause|cuz|while|whereas|now|and then|then"
    r"|so(?= (?:i|my|it|the|we)\b)"
    r"|since(?= (?:i|my|it|the|then|now|that|yesterday|today|this|last)\b)"
    r"|and(?= (?:my|i|it|the|now|then|this|that|also|today|still)\b))\b"
)


@dataclass(frozen=True)
class Entry:
    kind: Kind
    direction: Direction
    window: int
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Modifier:
    """A modifier found in the text, and the stretch of text it modifies."""

    kind: Kind
    start: int
    end: int
    scope: tuple[int, int]

    def applies_to(self, criterion: Criterion | Literal[""]) -> bool:
        """Most modifiers apply to every finding; a swollen ankle or a sting only rules out the hip infection."""
        return self.kind not in INFECTION_ONLY or criterion == "infection"

    def covers(self, start: int, end: int) -> bool:
        """Does the scope reach the mention [start, end), the modifier not being part of the mention?"""
        if self.kind in PHRASE_KINDS:
            return self.start <= start and end <= self.end  # a mention inside "dead on my feet" is a figure of speech
        if start <= self.start and self.end <= end:
            return False  # "can not walk", "nothing helps": the mention carries its own negation
        return self.scope[0] < end and start < self.scope[1]


LEXICON_FILE = "context_modifiers.tsv"


@lru_cache(maxsize=1)
def lexicon() -> tuple[Entry, ...]:
    return tuple(
        _entry(kind, direction, window, pattern)
        for kind, direction, window, pattern in (line.split("\t") for line in datafiles.lines(LEXICON_FILE))
    )


def _entry(kind: str, direction: str, window: str, pattern: str) -> Entry:
    """One line of the lexicon; a kind or direction the code does not know is a mistake in the file."""
    if kind not in _KINDS:
        raise datafiles.DataFileError(f"{LEXICON_FILE}: unknown modifier kind {kind!r} (allowed: {', '.join(_KINDS)})")
    if direction not in _DIRECTIONS:
        raise datafiles.DataFileError(
            f"{LEXICON_FILE}: unknown direction {direction!r} (allowed: {', '.join(_DIRECTIONS)})"
        )
    return Entry(kind, direction, int(window), re.compile(pattern))


def boundaries(text: str, start: int, end: int, *, strong: bool = False) -> list[int]:
    """Positions where a modifier's scope stops: the sentence's ends and every clause boundary."""
    cuts = {start, end}
    for match in (STRONG_TERMINATOR if strong else TERMINATOR).finditer(text, start, end):
        cuts.update((match.start(), match.end()))
    return sorted(cuts)


def _limit_words(text: str, start: int, end: int, words: int, *, forward: bool) -> int:
    if not words:
        return end if forward else start
    if forward:
        spans = [m.end() for m in re.finditer(r"\S+", text[start:end])]
        return start + spans[words - 1] if len(spans) >= words else end
    spans = [m.start() for m in re.finditer(r"\S+", text[start:end])]
    return start + spans[-words] if len(spans) >= words else start


def modifiers(text: str, start: int, end: int) -> list[Modifier]:
    """The modifiers of one sentence, text[start:end], with their scopes."""
    cuts = boundaries(text, start, end)
    strong = boundaries(text, start, end, strong=True)
    entries = lexicon()
    pseudo = [
        (m.start(), m.end())
        for e in entries
        if e.kind in ("pseudo", "figurative")
        for m in e.pattern.finditer(text, start, end)
    ]
    found = []
    present: list[tuple[int, int]] | None = None  # clauses told in the present, found once a time phrase needs them
    present_starts: list[int] = []
    present_ends: list[int] = []
    sentence = text[start:end].strip()
    # "What does it mean if your hip feels hot? Mine does right now": the next sentence makes it the writer's.
    owned = sentence.endswith("?") and bool(_OWNS_UP.match(text, end) or _STILL_HERE.match(sentence))
    if sentence.endswith("?") and _ANSWERED_NO.match(text, end):
        # "Fever, redness, swelling? nope, none of that.", "Swollen? Hot? Red? Checked in the mirror, nothing at all."
        found.append(Modifier("negated", end, end, (start, end)))
    for denial in _DENIES_LIST.finditer(text, start, end):
        # "Leg tingling, foot dragging, knee giving way: thankfully none of that here", "Swelling, redness, fever -
        # I've checked and I've got none of them": the list before it is denied, past commas, colons and dashes.
        found.append(Modifier("negated", denial.start(), denial.end(), (start, denial.start())))
    if _DATED_BY_NEXT.match(text, end):
        # "I literally couldn't walk for two days. That was 2019 and I've been fine since."
        found.append(Modifier("historical", end, end, (start, end)))
    if sentence.endswith("?"):
        opening = next((e for e in entries if e.kind == "question"), None)
        mine = next((e for e in entries if e.kind == "first_person"), None)
        if opening and opening.pattern.match(sentence) and not (mine and mine.pattern.search(sentence)) and not owned:
            found.append(Modifier("hypothetical", start, start, (start, end)))
    for entry in entries:
        if entry.kind in PHRASE_KINDS:
            # "dead on my feet", "fever pitch": the whole phrase is the modifier and its own scope.
            found.extend(
                Modifier(entry.kind, m.start(), m.end(), (m.start(), m.end()))
                for m in entry.pattern.finditer(text, start, end)
            )
            continue
        if entry.kind == "pseudo" or entry.kind in SENTENCE_KINDS or entry.kind in COURSE_KINDS:
            continue
        if owned and entry.kind == "hypothetical":
            continue
        for match in entry.pattern.finditer(text, start, end):
            a, b = match.start(), match.end()
            if any(p <= a and b <= q for p, q in pseudo):
                continue
            if entry.kind in ("infection_cause", "illness") and _NEGATED_BEFORE.search(text, max(start, a - 40), a):
                continue  # "not from a sting", "it is not the flu": the cause is ruled out, not the redness or fever
            if entry.kind == "illness" and _HIP_NAMED.search(text, start, end):
                continue
            # Negation and a body part reach to the clause's end; another time, person, a harmless cause
            # or a hypothetical to the sentence's.
            clause_level = entry.kind in ("elsewhere", "elsewhere_infection") or (
                entry.kind == "negated" and entry.direction != "backward"
            )
            own = cuts if clause_level else strong
            after = next((c for c in own if c > b), end)
            before = max((c for c in (strong if entry.direction == "backward" else own) if c <= a), default=start)
            lo, hi = a, b
            if entry.kind == "other_experiencer":
                turn = next(
                    (
                        m
                        for m in FIRST_PERSON.finditer(text, b, after)
                        if not _IN_MY.search(text, max(0, m.start() - 8), m.start()) and not names_them(text, b, m)
                    ),
                    None,
                )
                after = turn.start() if turn else after
            if entry.kind == "hypothetical" and _SUPPOSES.match(match.group()):
                after = end  # "What if my hip still hurts after three weeks of rest?": all of it is supposed
            if entry.kind == "historical":
                # A time phrase tells when its own clauses happened, not a present-tense clause before or after them:
                # "hip joint swelling up, had a steroid injection in it last week", "injection 4 days ago and since
                # yesterday the area is red".
                if present is None:
                    present = [(c, d) for c, d in itertools.pairwise(cuts) if _PRESENT.search(text, c, d)]
                    present_starts = [c for c, _ in present]
                    present_ends = [d for _, d in present]
                i = bisect.bisect_left(present_starts, b)
                if i < len(present) and present[i][1] <= after:
                    after = present[i][0]
                j = bisect.bisect_right(present_ends, a) - 1
                if j >= 0 and present[j][0] >= before:
                    before = present[j][1]
            if entry.direction in ("forward", "both"):
                hi = _limit_words(text, b, after, entry.window, forward=True)
            if entry.direction in ("backward", "both"):
                lo = _limit_words(text, before, a, entry.window, forward=False)
            found.append(Modifier(entry.kind, a, b, (lo, hi)))
    return found


_ANSWERED_NO = re.compile(
    r"(?:\s*[^\s.?!][^.?!]{0,39}\?){0,4}?(?!\W*(?:yes|yeah|yep|yup|definitely|absolutely|loads)\b)\W*(?:\w+\W+){0,5}?"
    r"(?:no|nope|nah|none|nothing|not at all|neither)\b"
    r"(?!\W*(?:change|changes|better|improvement|difference|relief|idea|clue|let up|way|longer)\b)"
)
"""What the writer answers their own question with (after up to four more short questions, so a message of a
thousand questions is read in linear time): "Is it numb? No. Tingling? No." """

_DENIES_LIST = re.compile(
    r"\b(?:none of (?:that|them|those|these|the above|it)|neither of (?:them|those|these)|not any of (?:them|those|these)"
    r"|no to (?:all|any|each) of (?:them|those|these|that))\b"
    r"(?=\s*(?:[.!?,;:)]|$|(?:here|at all|either|today|now|thankfully|luckily|so far|whatsoever)\b))"
)
"""A denial that points back at a list of findings and ends its clause ("I've got none of them."), not one that says
something of them ("none of them have gone away", "none of that helped")."""

_DATED_BY_NEXT = re.compile(
    r"\W*(?:that|this|it) (?:was|were|happened) (?:in |back in |around |about )?"
    r"(?:(?:19|20)\d\d|(?:\w+ ){0,2}years? ago|last year|years back|ages ago|a long time ago|when i was)\b"
)
"""A next sentence that puts the one before it years back: "... excruciating hips. That was 2019"."""

_SUPPOSES = re.compile(r"(?:what if|what happens if|suppose|supposing|imagine|let us say|let's say|say i|say my)\b")
"""A hypothetical that opens a supposition: the whole sentence is supposed, past "still" and "now"."""

_PRESENT = re.compile(
    r"\b(?:is|are|am|feels?|keeps?|goes|gets|will not|won't|can not|now|today|currently|still)\b|\b\w+ing up\b"
)
"""A clause told in the present ("my whole foot feels asleep", "hip joint swelling up")."""


def names_them(text: str, end: int, match: re.Match[str]) -> bool:
    """Is the "I" right after another person's mention (ending at `end`) part of naming them: "one of the kids I
    coach has had a fever", "a guy I run with"?"""
    return match.group() == "i" and not text[end : match.start()].strip()


_IN_MY = re.compile(r"\b(?:in|at|from|of|on)\s+$")
"""Before a "my" that only places someone else: "a guy in my running group could barely walk" speaks of him."""


_STILL_HERE = re.compile(r"^is\s+it\s+(?:normal|ok|okay|bad|common|usual)\s+(?:for|that)\b.*\bstill\b")
"""A question about what is still there ("is it normal for hip pain to still be there after 4 weeks off?") tells of
the writer's own course."""

_OWNS_UP = re.compile(
    r"\s*(?:(?:asking|i ask|i am asking)(?: because| as| since)? |because |cause )?(?:that is )?(?:exactly |just )?"
    r"(?:what )?(?:mine (?:both |all |too |also )?(?:did|does|do|has|have|is|was|went|goes|keeps|too|started|began|came on)"
    r"|same here|(?:it |this |that )?happens to me|happened (?:yesterday|today|this (?:morning|week)|last (?:night|week)"
    r"|\S+ (?:days?|weeks?) ago|on (?:a|my|the) )"
    r"|(?:it |this |that )?happened to me|i get (?:this|that|it)|that is me|where i am|my situation"
    r"|i (?:have|have been|had|have got|got) (?:had |having )?(?:it|this|that|them|these)(?: \w+){0,3} (?:for|since|along with)"
    r"|i am in (?:that|the same|this) (?:boat|situation|position))\b"
)
"""What the next sentence says to make a question about "your leg" the writer's own: "Is it normal for your leg to
go numb when you're running? Mine did it 3 times today", "... need looking at? Asking because that's exactly what
mine has done", "... if it hasn't improved after a month off? Because that's where I am"."""


_REPORTS = re.compile(
    r"\b(?:i|my \w+|the (?:hip|leg|thigh|groin|pain|ache)) (?:have|has|had|feel|feels"
    r"|(?:get|gets|got)(?! (?:rid|back|over|better|started|going|into|out|fit|stronger|faster)\b)|am|is"
    r"|hurts?|aches?|goes|went|keeps?(?! (?:it|this|them|my hip|my hips) (?:from|away|at bay)\b)|kept|tingles?|throbs?"
    r"|burns?|gives?|gave|will not|can not|could not|(?:would|might|could) (?:be|feel|look|go|get))\b"
)


_PRESUPPOSES = re.compile(
    r"^(?:why|how come)\s+(?:is|are|does|do|did|would|has|have|was|were|might|could)\s+my\b"
    r"|^(?:should|do|must)\s+i\s+(?:be\s+)?(?:worried|worry|concerned|panic)\s+(?:that|about|because|if)\b"
    r"|^is\s+it\s+(?:normal|ok|okay|bad|serious|a (?:bad sign|problem|worry))\s+that\b"
)
"""A question that takes the writer's state as given reports it: "why would my hip be red?", "should I be worried
that my leg feels weak on stairs?", "is it normal that my hip is hot?"."""


_ASKS = re.compile(
    r"^(?:how|hows|what|whats|wat|which|when|where|who)\s+(?:do|does|can|could|should|would|will|shall|did)\s+"
    r"(?P<asker>i|we)\b"
    r"|^(?:please\s+)?(?:give|tell|show|list|explain|describe|summari[sz]e|recommend|suggest)\s+(?:me|us)\b"
    r"|^(?:how|hows|what|whats|wat|which|why|when|where|who|anything|everything"
    r"|any (?:\w+ )?(?:tips|advice|ideas|suggestions))\b"
    r"|^(?:is|are|was|were|do|does|did|can|could|would|should|will)\s+"
    r"(?P<subject>i|you|it|there|this|that|my|a|an|the|we|they|he|she|anything|running)\b"
)
_LEADING_CONJUNCTION = re.compile(r"^(?:and|so|but|or|also|plus)\s+")


def asks(clause: str) -> bool:
    """Does this clause ask something ("how do I ...", "is there anything I can do") without reporting?

    An auxiliary opens a question only with its subject after it: "could not even make it to the
    bus stop" is a report. The question's own subject starts no report: "can i keep running with hip pain"
    asks, "can i keep running when my leg goes numb" reports.
    """
    clause = _LEADING_CONJUNCTION.sub("", clause.strip())
    opening = _ASKS.match(clause)
    if not opening:
        return False
    # "how do i get my head right": the question's own subject starts no report either.
    subject = opening.start("asker") if opening.group("asker") else opening.start("subject")
    if _PRESUPPOSES.match(clause):
        return False
    return not any(m.start() != subject for m in _REPORTS.finditer(clause))


_NEGATED_AFTER = re.compile(r"\W*(?:none|zero|nil|nothing|no|not|nope)\b")
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|never|nothing|hardly|barely|zero|without)\W+(?:\w+\W+){0,2}$")


_OTHERWISE = re.compile(r"\b(?:otherwise|apart from that|other than that|besides that)\W+(?:\w+\W+){0,1}$")


def says(text: str, kind: Kind, after: int = 0) -> bool:
    """Does the message state this course of its complaint ("getting better", "goes back to normal"),
    from position `after` on, not negated within the three words before ("has not improved", "never
    goes away") or right after ("improvement: none")?"""
    return bool(statements(text, kind, after))


def statements(text: str, kind: Kind, after: int = 0) -> list[int]:
    """Where the message states this course of its complaint (``says``), in order."""
    found = []
    for entry in lexicon():
        if entry.kind != kind:
            continue
        for match in entry.pattern.finditer(text, after):
            if _NEGATED_BEFORE.search(text, max(0, match.start() - 40), match.start()):
                continue
            if _OTHERWISE.search(text, max(0, match.start() - 20), match.start()):
                continue  # "... and I've got a fever. But otherwise totally fine": fine apart from the complaint
            if not _NEGATED_AFTER.match(text, match.end()):
                found.append(match.start())
    return sorted(found)


def covering(mods: list[Modifier], start: int, end: int, criterion: Criterion | Literal[""] = "") -> Modifier | None:
    """The first modifier whose scope covers the mention of `criterion`, if any."""
    return next((m for m in mods if m.covers(start, end) and m.applies_to(criterion)), None)
