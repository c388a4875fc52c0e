"""Readable, high-precision patterns for the four red flags and for care-seeking questions.

They run over the normalized text (``normalize``); whether a match is a
present, first-person finding is decided afterwards by ``context``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LEG = r"(?:leg|legs|foot|feet|thigh|thighs|toes|knee|calf|shin|glute|buttock|bum|butt)"
_ONE_LEG = r"(?:leg|foot|thigh|knee|calf|shin)"
_PAIN = r"(?:hurt|hurts|hurting|hurted|pain|painful|ache|aches|aching|achy|achey|sore|soreness|bother|bothering|bothered|hip)"
_DURATION = (
    r"(?:(?:for|since|over|in|after)\s+(?:the\s+(?:last|past)\s+)?(?:over\s+|about\s+|almost\s+|nearly\s+)?"
    r"(?:(?:a\s+)?(?:good\s+)?few|several|many|a\s+couple\s+of|two|three|four|five|six|seven|eight|nine|ten|\d+|a|one)\s+"
    r"(?:full\s+|whole\s+)?(?:weeks|wks|months?|mths|years?)"
    r"|(?:two|three|four|five|six|seven|eight|nine|ten|\d+|several|a few|many)\s+(?:weeks|months)"
    r"|(?:a|one)\s+(?:full\s+|whole\s+)?month"
    r"|for\s+(?:weeks|months|ages|ever|a\s+long\s+time)|(?:weeks|months)\s+(?:now|of\s+(?:rest|resting|pain))"
    r"|(?:since|back in)\s+(?:before\s+)?(?:(?:early|late|mid|the start of|the end of)\s+)?(?:january|february|march|april|may|june|july|august|september|october"
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
    r"|(?:has|have|had|is|are)\s+not\s+(?:\w+\s+)?(?:mended|healed|settled|eased|gone|touched|budged|budging|shifted|shifting|changed)"
    r"|(?:still|keeps?)\s+(?:hurting|hurts|hurt|aching|aches|sore|painful|bothering)|exactly\s+the\s+same|chronic"
    r"|(?:is|it is|pain is)\s+(?:no|not\s+any)\s+better|persistent|(?:getting|got|gotten)\s+worse"
    r"|same\s+as\s+(?:day\s+(?:one|1)|the\s+(?:first\s+)?day|when|before|it\s+was)|still\s+(?:is\s+)?not\s+right"
    r"|(?:has|have|is)\s+not\s+(?:got|gotten|become)\s+(?:any\s+)?(?:better|quieter|easier|less)"
)


NOT_BETTER = re.compile(rf"\b(?:{_NOT_BETTER})\b|\bstill\b")
"""Says the pain is not getting better (which outweighs any word of improvement in the same message)."""


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
        r"\b(?:can not|could not|can no longer|unable to|not able to|no longer able to|barely|hardly|struggl\w* to"
        r"|too painful to|impossible to|(?:have|has) not been able to)\s+(?:\w+\s+){0,2}(?:or\s+(?:\w+\s+){0,2})?"
        r"(?:(?:walk|walking)(?!\s+(?:past|by|away|into|in\s+to))|manage\s+(?:the\s+)?stairs|cope\s+with\s+(?:the\s+)?stairs"
        # "can't stand" the treadmill is a dislike; standing up is not
        r"|stand(?:ing)?(?!\s+(?:\w+ing|it|him|her|them|the|this|that|people|treadmills?|running|when|how|being)\b)"
        r"|put\s+(?:any\s+|my\s+|full\s+)?weight"
        r"|bear\s+weight|weight\s*bear|put\s+(?:on\s+)?my\s+(?:socks|shoes|trousers|pants|jeans)|get\s+dressed"
        r"|get\s+(?:out\s+of|off|up|down|into|in|to|through)|climb|move|sleep|drive|sit|work|do\s+(?:anything|my|the|daily))",
    ),
    _rule("severe_pain", r"\b(?:walking|standing|moving) is (?:near(?:ly)? |almost |basically )?impossible\b"),
    _rule("severe_pain", r"\b(?:limp|limping|limps|hobbl\w*|crutch\w*)\b"),
    _rule(
        "severe_pain",
        r"\b(?:agony|agonising|agonizing|excruciating|unbearable|intolerable|worst pain|severe|intense|extreme|"
        r"screaming|crippling|debilitating|brutal|(?<!ants )(?<!bugs )(?<!insects )crawling|crawl)\b",
        needs=rf"\b{_PAIN}\b|\bpain\b",
    ),
    _rule(
        "severe_pain",
        r"\b(?:so|really|very|too) (?:bad|severe|intense|painful)\b|\bso much pain\b|\bkilling me\b"
        # "the pain is that bad", but not the question "is that bad?"
        r"|\b(?:pain|it|hip|ache) (?:is|was|gets|got) that (?:bad|severe|intense)\b|\bthat is how bad\b"
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
    # Weakness of one leg: "legs" that feel dead or weak after hills are tired, a leg "weaker than the
    # other" or a weak glute is a strength question; getting weaker is not.
    _rule(
        "nerve_symptoms",
        r"\b(?:feels?|felt|feeling|gone|going|goes|went)\s+(?:\w+\s+)?(?:weak|dead|floppy)\b",
        needs=rf"\b{_ONE_LEG}\b",
    ),
    _rule(
        "nerve_symptoms",
        rf"\b(?:weak|weakness|dead|floppy)\b(?:\s+\w+){{0,3}}\s+{_ONE_LEG}\b"
        rf"|\b{_ONE_LEG}\s+(?:\w+\s+){{0,3}}(?:weak|weakness|dead|floppy)\b"
        r"|\b(?:getting|got|gotten|grown) weaker\b|\bweaker and weaker\b",
    ),
    _rule(
        "nerve_symptoms",
        r"\b(?:gives|give|giving|gave|given) (?:out|way)\b|\b(?:buckles|buckled|buckling|collapses|collapsed)\b"
        r"|\bfoot drop\b|\bdrop foot\b|\b(?:foot|toes) (?:\w+ )?(?:drags?|slaps?|dragging|slapping)\b",
        needs=rf"\b{_LEG}\b|\bhips?\b|\b(?:it|i|me)\b",  # a treadmill's belt gives way too
    ),
)

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
