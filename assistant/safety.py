"""The safety layer: the article's red-flag referral criteria, surfaced every time.

The article's "When to Seek Professional Help" names four red flags. When a
person describes one, in any wording, the answer carries a referral that
quotes all four from the article, the triggered ones first with their
urgency. Questions about when to see a doctor or physio get it too.

Detection has two layers, and every detection names the words behind it:

* Rules: readable patterns per criterion, run over a normalized copy of the
  message (lower case, contractions expanded, common misspellings of the key
  words corrected), clause by clause. A trigger is dropped when a negation
  governs it ("no fever", "I don't have any tingling or swelling"), when it
  is about someone else or the past ("my friend had a swollen hip"), or
  when the clause goes on to deny it ("... and I honestly don't").
* Semantics: each clause is compared with example phrasings of each
  criterion using the same embedding model, catching wordings no rule
  lists. Clauses with a negation or a denial are not judged this way.

The layer runs in the chain after retrieval and outside every answerer, so
nothing the user writes ("ignore your safety rules") and nothing a language
model writes can remove the referral. Once a criterion has been reported in
a conversation, later answers keep a shorter referral.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from . import texts
from .answer import RED_FLAGS, Answer
from .embeddings import embed_texts

# --- normalizing ------------------------------------------------------------

_CONTRACTIONS = [
    (r"\bcan'?t\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bwon'?t\b", "will not"),
    (r"\b(is|are|was|were|has|have|had|does|do|did|could|would|should)n'?t\b", r"\1 not"),
    (r"\bain'?t\b", "is not"),
    (r"\bi'?m\b", "i am"),
    (r"\bi'?ve\b", "i have"),
    (r"\bit'?s\b", "it is"),
    (r"\bthat'?s\b", "that is"),
]
# Key words people misspell ("numbnes", "swolen", "feaver"). A token one edit
# away (two for long words), with the same first letter, is read as the key
# word, unless it is itself a common word that happens to be close.
_KEY_WORDS = frozenset(
    """numbness tingling tingly needles weakness swollen swelling fever feverish temperature redness chills
    shivering improved improving improve better walking limping weight agony unbearable excruciating severe
    nothing helps helped difference resting hurting painful barely sensation giving buckles collapses months
    """.split()
)
_NOT_TYPOS = frozenset(
    """fewer chilly chill weigh weighs height eight sever severs letter butter batter bitter nothings helms
    impose rusting nesting testing resting sweating walked walks walker months month""".split()
)
_TOKEN = re.compile(r"[a-z]+")


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (adjacent swaps count once), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=8192)
def _spelled(token: str) -> str:
    if len(token) < 4 or token in _KEY_WORDS or token in _NOT_TYPOS:
        return token
    limit = 2 if len(token) >= 9 else 1
    for word in _KEY_WORDS:
        if word[0] == token[0] and _edit_distance(token, word, limit) <= limit:
            return word
    return token


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_PIECE = re.compile(r"[a-z0-9']+|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class Normalized:
    """A normalized copy of a message that remembers where each character came from.

    Rules match the normalized text; ``original(start, end)`` gives back the
    words the user actually wrote ("can't put weight", not "can not put weight").
    """

    text: str
    source: str
    begin: tuple[int, ...]
    end: tuple[int, ...]

    @classmethod
    def of(cls, source: str) -> Normalized:
        lowered, origin = [], []
        for i, ch in enumerate(source):
            for c in ch.lower().translate(_APOSTROPHES):
                lowered.append(c)
                origin.append(i)
        low = "".join(lowered)
        out: list[str] = []
        begin: list[int] = []
        end: list[int] = []
        for piece in _PIECE.finditer(low):
            word = piece.group(0)
            if word.isspace():
                if out and out[-1] == " ":
                    continue
                word = " "
            elif word[0].isalnum() or word[0] == "'":
                for pattern, repl in _CONTRACTIONS:
                    word = re.sub(pattern, repl, word)
                word = _TOKEN.sub(lambda m: _spelled(m.group(0)), word)
            first, last = origin[piece.start()], origin[piece.end() - 1] + 1
            out.append(word)
            begin += [first] * len(word)
            end += [last] * len(word)
        return cls("".join(out), source, tuple(begin), tuple(end))

    def original(self, start: int, end: int) -> str:
        if start >= end:
            return ""
        return self.source[self.begin[start] : self.end[end - 1]].strip()


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, expanded contractions, corrected key words."""
    return Normalized.of(text).text


# A clause ends at sentence punctuation, a semicolon, a dash, a comma, or a
# contrastive word; negation does not reach across a clause boundary.
_CLAUSE_SPLIT = re.compile(
    r"[.!?;:\n]+|\s[-\u2013\u2014]+\s|,|\b(?:but|though|although|however|except|just|only)\b"
    r"|\band (?=(?:my|i|it|the|now|then|this|that|also|today)\b)"
)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?\n])\s+")


def _spans(text: str, separator: re.Pattern, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of text[start:end] between separator matches, trimmed of space."""
    spans, cursor = [], start
    for match in [*separator.finditer(text, start, end), None]:
        stop = match.start() if match else end
        a, b = cursor, stop
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
        cursor = match.end() if match else end
    return spans


def _negated(before: str) -> bool:
    """A negation among the few words before a trigger ("no fever", "not limping").

    Triggers that carry their own negation ("can not walk", "nothing helps")
    are judged only by what precedes them.
    """
    before = _PSEUDO_NEGATION.sub(" ", before)
    return bool(_NEGATION.search(" ".join(before.split()[-_NEGATION_WINDOW:])))


# --- rules -------------------------------------------------------------------

_LEG = r"(?:leg|legs|foot|feet|thigh|thighs|toes|knee|calf|shin|glute|buttock|bum|butt)"
_PAIN = r"(?:hurt|hurts|hurting|hurted|pain|painful|ache|aches|aching|achy|sore|soreness|bother|bothering|bothered|hip)"
_DURATION = (
    r"(?:(?:for|since|over|in|after)\s+(?:the\s+(?:last|past)\s+)?(?:over\s+|about\s+|almost\s+|nearly\s+)?"
    r"(?:(?:a\s+)?few|several|many|a\s+couple\s+of|two|three|four|five|six|seven|eight|nine|ten|\d+|a|one)\s+"
    r"(?:full\s+|whole\s+)?(?:weeks|wks|months?|mths|years?)"
    r"|(?:two|three|four|five|six|seven|eight|nine|ten|\d+|several|a few|many)\s+(?:weeks|months)"
    r"|(?:a|one)\s+(?:full\s+|whole\s+)?month"
    r"|for\s+(?:weeks|months|ages|ever|a\s+long\s+time)|(?:weeks|months)\s+(?:now|of\s+(?:rest|resting|pain))"
    r"|(?:since|back in)\s+(?:before\s+)?(?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december|spring|summer|autumn|fall|winter|christmas|easter|new\s+year|last\s+(?:month|year|season))"
    r"|(?:the\s+)?(?:whole|entire|all)\s+(?:of\s+)?(?:summer|winter|spring|autumn|season|month|year|january|february"
    r"|march|april|may|june|july|august|september|october|november|december))"
    r"(?!\s+(?:pregnant|postpartum|post-partum|old)\b)"  # "8 months pregnant" is no duration of pain
)
_NOT_BETTER = (
    r"(?:not|never|no)\s+(?:\w+\s+){0,2}(?:improved|improving|improve|better|getting\s+better|go\s+away|gone\s+away"
    r"|going\s+away|healed|healing|changed|help|helped|helping|fixed|worked|working|difference)"
    r"|nothing\s+(?:\w+\s+){0,2}(?:helps|helped|works|worked|working|fixes|fixed|makes|made|changes)"
    r"|(?:did|does|do|done|doing)\s+nothing|(?:is\s+)?still\s+there|just\s+as\s+(?:much|bad)"
    r"|(?:no|zero|not\s+any)\s+(?:progress|improvement|change)|still\s+with\s+me"
    r"|(?:has|have|had)\s+not\s+(?:\w+\s+)?(?:mended|healed|settled|eased|gone)"
    r"|(?:still|keeps?)\s+(?:hurting|hurts|hurt|aching|aches|sore|painful|bothering)|exactly\s+the\s+same|chronic"
    r"|(?:is|it is|pain is)\s+(?:no|not\s+any)\s+better|persistent|(?:getting|got|gotten)\s+worse"
)


@dataclass(frozen=True)
class Rule:
    criterion: str
    pattern: re.Pattern
    needs: re.Pattern | None = None
    """A second pattern that must match in the same sentence (context)."""


def _rule(criterion: str, pattern: str, needs: str | None = None) -> Rule:
    return Rule(criterion, re.compile(pattern), re.compile(needs) if needs else None)


RULES: tuple[Rule, ...] = (
    # Persistent pain: lasting weeks or more, or not getting better with rest.
    _rule("persistent_pain", _DURATION, needs=rf"\b{_PAIN}\b"),
    _rule(
        "persistent_pain",
        _NOT_BETTER,
        needs=rf"\b{_PAIN}\b|\b(?:rest|resting|rested|self care|self-care|ice|icing|time off|off my feet|laying off)\b",
    ),
    # Severe pain: intense, or stopping walking and daily life.
    _rule(
        "severe_pain",
        r"\b(?:can not|could not|unable to|barely|hardly|struggl\w* to|too painful to|impossible to)\s+(?:\w+\s+){0,2}"
        r"(?:(?:walk|walking)(?!\s+(?:past|by|away|into|in\s+to))|stand|standing|put\s+(?:any\s+|my\s+|full\s+)?weight"
        r"|bear\s+weight|weight\s*bear|put\s+(?:on\s+)?my\s+(?:socks|shoes|trousers|pants|jeans)|get\s+dressed"
        r"|get\s+(?:out\s+of|off|up|down|into|in|to|through)|climb|move|sleep|drive|sit|work|do\s+(?:anything|my|the|daily))",
    ),
    _rule("severe_pain", r"\b(?:walking|standing|moving) is (?:near(?:ly)? |almost |basically )?impossible\b"),
    _rule("severe_pain", r"\b(?:limp|limping|limps|hobbl\w*|crutch\w*)\b"),
    _rule(
        "severe_pain",
        r"\b(?:agony|agonising|agonizing|excruciating|unbearable|intolerable|worst pain|severe|intense|extreme|"
        r"screaming|crippling|debilitating|brutal|crawling|crawl)\b",
        needs=rf"\b{_PAIN}\b|\bpain\b",
    ),
    _rule(
        "severe_pain",
        r"\b(?:so|really|very|too) (?:bad|severe|intense)\b|\bso much pain\b|\bkilling me\b"
        # "the pain is that bad", but not the question "is that bad?"
        r"|\b(?:pain|it|hip|ache) (?:is|was|gets|got) that (?:bad|severe|intense)\b"
        r"|\b(?:[7-9]|10|seven|eight|nine|ten)\s*(?:/|out of)\s*(?:10|ten)\b",
        needs=rf"\b{_PAIN}\b",
    ),
    # Infection: fever, redness or swelling around the hip.
    _rule(
        "infection",
        r"(?<!cabin )(?<!marathon )(?<!race )(?<!running )(?<!spring )(?<!night )(?<!ballot )(?<!football )"
        r"\b(?:fever|fevers|feverish)\b"
        r"|\b(?:chills|chill|shivering|shivers|shivery|rigors|night sweats|burning up|hot and cold)\b",
    ),
    _rule(
        "infection",
        r"\b(?:running|have|got|had|with|high|a)\s+(?:a\s+)?(?:high\s+)?(?:temperature|temp)\b"
        r"|\btemp(?:erature)? (?:is |was |of |at |reading )?(?:3[89](?:\.\d)?|4[01](?:\.\d)?|10[0-4](?:\.\d)?)\b",
    ),
    _rule(
        "infection",
        r"\b(?:swollen|swelling|swelled|swells|puffy|puffed up|ballooned|bulging)\b",
        needs=r"\b(?:hip|hips|joint|leg|thigh|groin|skin|area|side|buttock|glute|bum|it)\b",
    ),
    _rule(
        "infection", r"\bredness\b|\b(?:red|reddish) (?:and|&)\b|\b(?:and|gone|turned|looks|is|it is) (?:red|reddish)\b"
    ),
    _rule("infection", r"\b(?:hot|warm) to (?:the )?touch\b|\b(?:hip|skin|joint) (?:is|feels|feel) (?:hot|warm)\b"),
    # Nerve symptoms: numbness, tingling or weakness in the leg.
    _rule(
        "nerve_symptoms",
        r"\b(?:numb|numbness|numbed|tingling|tingly|tingle|tingles|prickling)\b|(?<!on )\bpins and needles\b",
    ),
    _rule(
        "nerve_symptoms",
        r"\b(?:lost|losing|lose|loss of|no) (?:all |the )?(?:feeling|feelin|sensation)\b|\bcan not feel my\b"
        r"|\bcan not (?:lift|raise|move) my (?:foot|toes|leg)\b",
    ),
    _rule(
        "nerve_symptoms",
        r"\belectric (?:shocks?|zaps?|jolts?)\b|\bshooting (?:pain|pains)? ?down\b"
        r"|\b(?:fuzzy|fizzy|buzzing|prickly|prickling)\b",
        needs=rf"\b{_LEG}\b|\bdown my\b",
    ),
    _rule("nerve_symptoms", r"\b(?:fallen|falls|fell|falling|going|goes|went) asleep\b", needs=rf"\b{_LEG}\b"),
    _rule(
        "nerve_symptoms",
        rf"\b(?:weak|weaker|weakness|dead|floppy)\b(?:\s+\w+){{0,3}}\s+{_LEG}\b"
        rf"|\b{_LEG}\s+(?:\w+\s+){{0,3}}(?:weak|weaker|weakness|dead|floppy)\b",
    ),
    _rule(
        "nerve_symptoms",
        r"\b(?:gives|give|giving|gave|given) (?:out|way)\b|\b(?:buckles|buckled|buckling|collapses|collapsed)\b"
        r"|\bfoot drop\b|\bdrop foot\b|\b(?:foot|toes) (?:\w+ )?(?:drags?|slaps?|dragging|slapping)\b",
    ),
)

# Negation before a trigger, within its clause.
_NEGATION = re.compile(
    r"\b(?:no|not|never|without|zero|nothing|none|neither|nor|free of|ruled out|rule out|denies|deny|absence of"
    r"|rather than|instead of|lack of|no sign of|no signs of|no hint of)\b"
)
_NEGATION_WINDOW = 6
# Phrases that look negative but negate nothing ("no idea why my leg is numb").
_PSEUDO_NEGATION = re.compile(r"\b(?:no idea|not sure|no doubt|not only|no matter|not just|nothing else)\b")
# A clause or sentence that denies what it mentions, after the mention.
_DENIAL_AFTER = re.compile(
    r"\b(?:i|luckily i|thankfully i|i honestly|i really) (?:do not|did not|have not|am not)(?: have| had| got)?"
    r"(?: any| it| that| them| anything like that)?\s*$"
    r"|\b(?:long over|long gone|all gone|went away|gone now|cleared up|resolved|no longer)\b"
)
# The mention is about someone else, hearsay, or a question about the signs themselves.
_NOT_MINE = re.compile(
    r"\b(?:i read|i heard|people say|they say|is a (?:warning|red flag)"
    r"|warning signs?|red flags?|asked (?:if|whether))\b|\byears? ago\b"
    r"|\blast (?:year|winter|summer|spring|autumn|fall)\b|\b(?:back )?in (?:19|20)\d\d\b"
    r"|\b(?:completely|fully|totally) (?:healed|recovered|fine)\b|\bfine ever since\b|\bpain-? ?free for\b"
)
# A question about care or training ("how long should i ice my hip") reports no
# symptom; the semantic layer leaves such clauses to the rules.
_QUESTION_CLAUSE = re.compile(
    r"^(?:how|what|which|when|where|why|who|should|can|could|would|will|is|are|does|do|did)\b"
    r"(?!.*\b(?:i|my) (?:have|had|feel|get|got)\b)"
)
_OPENING_PUNCTUATION = " '\"\u201c\u2018(*-\u2013\u2014>#"
# A clause whose subject is someone else ("my wife had numbness down her leg").
_SOMEONE_ELSE = re.compile(
    r"^(?:my|our|a) (?:\w+ )?(?:friend|buddy|mate|wife|husband|partner|son|daughter|mum|mom|dad|father|mother"
    r"|brother|sister|colleague|teammate|girlfriend|boyfriend|neighbou?r|coach)s?\b(?:(?! i | me | my ).)*$"
)

# --- care-seeking questions --------------------------------------------------

_PROFESSIONAL = (
    r"(?:doctor|doc|gp|physician|physio|physios|physiotherapist|physical therapist|therapist|pt|specialist|surgeon"
    r"|orthopa?edic\w*|sports (?:doctor|medicine)|healthcare|health care|health professional|professional"
    r"|medical|er|a&e|a and e|emergency|urgent care|hospital|clinic|someone|somebody|anyone"
    r"|x-?ray|mri|scan|opinion|check-?up)"
)
CARE_QUESTION = re.compile(
    rf"\b(?:see|seeing|visit|visiting|go to|going to|book|booking|consult|call|get|getting|find|contact"
    rf"|need|needs|worth|warrant|warrants|ask)\b(?:\s+\S+){{0,6}}\s+{_PROFESSIONAL}\b"
    rf"|\bget (?:it |this |my hip )?(?:checked|looked at|seen)\b"
    rf"|\b(?:is|are|should i (?:go to|use))\s+(?:the\s+)?(?:urgent care|er|a&e|emergency|hospital)\b"
    rf"|\b(?:when|whether|should i)\b.*\b(?:worry|worried|concerned|get (?:it )?checked|seek (?:help|care|treatment))\b"
    rf"|\b(?:warning signs?|red flags?|serious enough|signs? (?:that )?mean)\b"
    rf"|\b{_PROFESSIONAL}\b.*\b(?:first|or|when|should)\b.*\?"
    r"|\bself[- ]?(?:care|treat\w*)\b.*\b(?:before|until|stop)\b"
)

# --- semantic layer ----------------------------------------------------------

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "persistent_pain": (
        "my hip pain has not improved after weeks of rest",
        "it has hurt for months and nothing helps",
        "the pain will not go away no matter how long I rest",
        "weeks off running and my hip still hurts the same",
        "rest and ice have made no difference to my hip pain for a long time",
        "my hip has been painful since last season",
    ),
    "severe_pain": (
        "the pain is so bad I cannot walk",
        "I cannot put weight on my leg",
        "excruciating hip pain stopping me from doing daily activities",
        "I am limping badly and can barely move",
        "the worst pain I have ever had, I cannot get out of bed",
        "I need crutches to get around because of my hip",
    ),
    "infection": (
        "I have a fever and my hip is red and swollen",
        "my hip is hot to the touch and I have chills",
        "I am running a high temperature and the hip joint is swollen",
        "the skin over my hip is red, warm and puffy and I feel unwell",
        "I feel feverish and shivery and my hip is inflamed",
    ),
    "nerve_symptoms": (
        "numbness and tingling down my leg",
        "pins and needles in my foot when I run",
        "my leg feels weak and gives way",
        "I have lost feeling in my leg",
        "electric shocks running down my leg",
        "my foot goes numb and my toes drag",
    ),
}


# Ordinary runner talk: a clause must be closer to a criterion than to all of
# these, by a margin, before the semantic layer calls it a red flag. Without
# them "my hip hurts" scores as high as "it has hurt for months".
NEUTRAL_PROTOTYPES: tuple[str, ...] = (
    "my hip hurts",
    "my hip hurts after running",
    "I have some hip pain from running",
    "my hip is a bit sore after a run",
    "my hips feel stiff and tight",
    "my legs feel heavy and tired after intervals",
    "when should I see a doctor about hip pain",
    "what can I do about my hip pain",
    "my hip pain is getting better",
    "my legs feel fine",
    "a mild ache in my hip",
    "what stretches help my hip",
    "my muscles are sore after training",
    "I am training for a race",
    "is it normal to be sore after a long run",
)


@dataclass(frozen=True)
class Detection:
    """One red flag found in a message, and the words that triggered it."""

    criterion: str
    trigger: str
    method: str
    """'rule' or 'semantic'."""
    score: float = 1.0


@dataclass(frozen=True)
class CriterionText:
    """A red-flag criterion as the article words it, with where it is."""

    name: str
    title: str
    quote: str
    chunk_id: str
    section: str


@dataclass(frozen=True)
class Assessment:
    """What the safety layer concluded about one turn."""

    detections: tuple[Detection, ...]
    earlier: tuple[str, ...]
    """Criteria reported in earlier user turns of the conversation."""
    care_question: bool

    @property
    def current(self) -> list[str]:
        return list(dict.fromkeys(d.criterion for d in self.detections))

    @property
    def red_flags(self) -> list[str]:
        found = set(self.current) | set(self.earlier)
        return [c for c in RED_FLAGS if c in found]


# Severe pain first: the article calls for immediate attention there.
URGENCY_ORDER = ("severe_pain", "infection", "nerve_symptoms", "persistent_pain")


class SafetyConfigError(RuntimeError):
    """The corpus lacks the referral criteria the safety layer must quote."""


def criteria_from_documents(documents: Sequence) -> dict[str, CriterionText]:
    """Find the four criteria in the indexed article: section 'When to Seek Professional Help'."""
    keys = {
        "persistent_pain": ("persistent",),
        "severe_pain": ("severe",),
        "infection": ("infection",),
        "nerve_symptoms": ("numbness", "tingling", "nerve"),
    }
    found: dict[str, CriterionText] = {}
    for doc in documents:
        meta = doc.metadata
        if "seek professional help" not in meta["section"].lower() or meta.get("kind") != "item":
            continue
        title = meta.get("title", "")
        for name, words in keys.items():
            if name not in found and any(w in title.lower() for w in words):
                body = doc.page_content
                quote = body[len(title) + 1 :].strip() if body.startswith(title + ":") else body
                found[name] = CriterionText(name, title, quote, meta["chunk_id"], meta["section"])
    missing = [n for n in RED_FLAGS if n not in found]
    if missing:
        raise SafetyConfigError(
            "The corpus must contain the article's 'When to Seek Professional Help' items for: " + ", ".join(missing)
        )
    return found


class SafetyLayer:
    """Detects red flags and care questions, and writes the referral."""

    SEMANTIC_THRESHOLD = 0.65
    """Cosine similarity to a criterion's example phrasing that a clause must reach."""
    SEMANTIC_MARGIN = 0.10
    """How much closer to the criterion than to any neutral phrasing it must be."""
    SEMANTIC_MAX_CLAUSES = 24

    def __init__(self, embeddings, criteria: dict[str, CriterionText], cache_size: int = 2048) -> None:
        self.embeddings = embeddings
        self.criteria = criteria
        names, phrases = zip(*[(n, p) for n, ps in PROTOTYPES.items() for p in ps], strict=True)
        self.prototype_names = np.array(names)
        self.prototypes = embed_texts(embeddings, list(phrases))
        self.neutral = embed_texts(embeddings, list(NEUTRAL_PROTOTYPES))
        self._cache: OrderedDict[str, tuple[Detection, ...]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()  # the page answers several sessions at once

    # -- detection --

    def detect(self, text: str) -> tuple[Detection, ...]:
        """Red flags the writer describes about themselves now, each with its trigger words."""
        with self._cache_lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        found = self._detect(text)
        with self._cache_lock:
            self._cache[text] = found
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    def clear_cache(self) -> None:
        """Forget remembered detections (benchmarks time the detection itself)."""
        with self._cache_lock:
            self._cache.clear()

    def _detect(self, text: str) -> tuple[Detection, ...]:
        norm = Normalized.of(text)
        detections: dict[str, Detection] = {}
        semantic_candidates: list[tuple[int, int]] = []
        for s_start, s_end in _spans(norm.text, _SENTENCE_SPLIT, 0, len(norm.text)):
            sentence = norm.text[s_start:s_end]
            clauses = _spans(norm.text, _CLAUSE_SPLIT, s_start, s_end)
            denied = bool(_DENIAL_AFTER.search(sentence.rstrip(" .!?"))) or bool(_NOT_MINE.search(sentence))
            if denied:
                continue
            explained: set[tuple[int, int]] = set()
            for rule in RULES:
                if rule.needs and not rule.needs.search(sentence):
                    continue
                for c_start, c_end in clauses:
                    if _SOMEONE_ELSE.search(norm.text[c_start:c_end]):
                        continue
                    match = rule.pattern.search(norm.text, c_start, c_end)
                    if match and not _negated(norm.text[c_start : match.start()]):
                        explained.add((c_start, c_end))
                        trigger = norm.original(match.start(), match.end())
                        detections.setdefault(rule.criterion, Detection(rule.criterion, trigger, "rule"))
            semantic_candidates += [
                (a, b)
                for a, b in clauses
                if (a, b) not in explained
                and len(norm.text[a:b].split()) >= 3
                and not _NEGATION.search(norm.text[a:b])
                and not _SOMEONE_ELSE.search(norm.text[a:b])
                and not _QUESTION_CLAUSE.match(norm.text[a:b].lstrip(_OPENING_PUNCTUATION))
            ]
        if len(detections) < len(RED_FLAGS) and semantic_candidates:
            for name, (a, b), score in self._semantic(norm.text, semantic_candidates[: self.SEMANTIC_MAX_CLAUSES]):
                detections.setdefault(name, Detection(name, norm.original(a, b), "semantic", score))
        return tuple(detections[c] for c in RED_FLAGS if c in detections)

    def _semantic(self, text: str, clauses: list[tuple[int, int]]) -> list[tuple[str, tuple[int, int], float]]:
        """(criterion, clause span, similarity) for clauses close to a criterion and not to ordinary talk."""
        vectors = embed_texts(self.embeddings, [text[a:b] for a, b in clauses])
        sims = vectors @ self.prototypes.T
        neutral = (vectors @ self.neutral.T).max(axis=1)
        out = []
        for i, span in enumerate(clauses):
            for name in RED_FLAGS:
                best = float(sims[i, self.prototype_names == name].max())
                if best >= self.SEMANTIC_THRESHOLD and best - neutral[i] >= self.SEMANTIC_MARGIN:
                    out.append((name, span, best))
        return sorted(out, key=lambda found: -found[2])

    def reported_chunks(self, text: str) -> list[str]:
        """Chunk ids of the criteria that `text` itself reports, most urgent first.

        Retrieval puts these first, so a person who describes a red flag reads
        the article's words about it in the answer too, not only in the referral.
        """
        found = {d.criterion for d in self.detect(text)}
        return [self.criteria[name].chunk_id for name in URGENCY_ORDER if name in found]

    @staticmethod
    def is_care_question(text: str) -> bool:
        """Does `text` ask when or whether to see a doctor, a physio or the emergency room?"""
        return bool(CARE_QUESTION.search(normalize(text)))

    def assess(self, question: str, earlier_user_messages: Sequence[str]) -> Assessment:
        earlier: list[str] = []
        for message in earlier_user_messages:
            earlier += [d.criterion for d in self.detect(message)]
        return Assessment(
            detections=self.detect(question),
            earlier=tuple(dict.fromkeys(earlier)),
            care_question=self.is_care_question(question),
        )

    # -- the referral --

    def referral(self, assessment: Assessment) -> str | None:
        """The referral text, or None when nothing calls for one."""
        current = assessment.current
        if current or assessment.care_question:
            return self._full(current, assessment.detections)
        if assessment.earlier:
            return self._short(list(assessment.earlier))
        return None

    def _line(self, name: str, trigger: str | None) -> str:
        c = self.criteria[name]
        urgency = texts.URGENCY[name]
        you_wrote = f' (you wrote: "{trigger}")' if trigger else ""
        label = f"{c.title.upper()}: {urgency}" if trigger is not None else c.title
        return f"- {label}{you_wrote}. \u201c{c.quote}\u201d [{c.section} > {c.title}: {c.chunk_id}]"

    def _full(self, current: list[str], detections: Sequence[Detection]) -> str:
        triggers = {d.criterion: d.trigger for d in detections}
        ordered = [c for c in URGENCY_ORDER if c in current] + [c for c in RED_FLAGS if c not in current]
        lines = [texts.REFERRAL_HEAD_FLAGGED if current else texts.REFERRAL_HEAD_CARE]
        lines += [self._line(name, triggers.get(name) if name in current else None) for name in ordered]
        lines.append(texts.REFERRAL_DISCLAIMER)
        return "\n".join(lines)

    def _short(self, earlier: list[str]) -> str:
        names = [c for c in URGENCY_ORDER if c in earlier]
        lines = [texts.REFERRAL_HEAD_EARLIER]
        for name in names:
            c = self.criteria[name]
            lines.append(f"- {c.title}: {texts.URGENCY[name]}. \u201c{c.quote}\u201d [{c.chunk_id}]")
        lines.append(texts.REFERRAL_DISCLAIMER)
        return "\n".join(lines)

    def apply(self, question: str, earlier_user_messages: Sequence[str], answer: Iterator[Answer]) -> Iterator[Answer]:
        """Wrap an answer stream: the referral chunk first, then the answer with safety fields cleared.

        The referral depends only on what the user wrote, so it goes out before
        the answer (the page shows it above). Chunks from the answerer cannot
        set or clear ``red_flags`` or ``referral``: this layer owns them.
        """
        assessment = self.assess(question, earlier_user_messages)
        yield Answer(red_flags=assessment.red_flags, referral=self.referral(assessment))
        for chunk in answer:
            yield replace(chunk, red_flags=[], referral=None)
