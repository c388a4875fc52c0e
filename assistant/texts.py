"""Fixed texts the assistant shows or sends to a model, in one place.

Nothing here is generated: these are the only words of an answer that do not
come from the article, so they are kept short, plain and reviewable.
"""

from typing import TYPE_CHECKING

from . import datafiles

if TYPE_CHECKING:
    from .answer import Criterion

EMPTY_QUESTION = "Please type a question about hip pain from running."

NOT_COVERED = "The article doesn't cover that."
SMALL_TALK = {
    "greeting": "Hello! Ask me about hip pain from running; I answer from one article and show where each sentence comes from.",
    "thanks": "You're welcome. Ask me anything else about hip pain from running.",
    "goodbye": "Take care, and happy running.",
}
COVERS = "It covers: {sections}."

TASK_REFUSAL = (
    "I only answer questions about hip pain from running, quoting one article; "
    "I can't translate, write code, poems or emails, or take on a role. "
    "Ask me what the article says, for example: How do I relieve hip pain from running?"
)
MISSING_SPECIFIC = "The article doesn't give {what}."
UNMENTIONED = "The article doesn't mention {terms}."
DOES_SAY = "Here is what it does say."
"""Follows MISSING_SPECIFIC or UNMENTIONED when the nearest passage is quoted after it."""
SPECIFIC_KINDS: dict[str, str] = {kind: words for kind, words in datafiles.rows("specific_kinds.tsv")}
"""What the article does not give, by the kind of specific asked for (``assistant/data/specific_kinds.tsv``)."""

INDEX_UNAVAILABLE = (
    "The article's index cannot be reached right now, so this message could not be answered from it. "
    "Please try again in a moment."
)
DEGRADED_NOTICE = (
    "The article's index server cannot be reached right now, so this answer was found in the copy of the "
    "article this server keeps in memory."
)
TRUNCATED_NOTICE = "Your message was long, so only its first {limit:,} characters were used to answer."

# The safety layer's referral. The criteria themselves are quoted from the article.
URGENCY: dict["Criterion", str] = {
    "severe_pain": "seek immediate medical attention",
    "infection": "get prompt treatment",
    "nerve_symptoms": "have it evaluated by a professional",
    "persistent_pain": "see a healthcare provider",
}
REFERRAL_HEADS: dict["Criterion", str] = {
    "severe_pain": "See a healthcare professional: seek immediate medical attention",
    "infection": "See a healthcare professional: get prompt treatment",
    "nerve_symptoms": "Have it evaluated by a professional",
    "persistent_pain": "See a healthcare provider",
}
"""The referral's heading by the most urgent criterion reported: the article's own urgency, said once."""
REFERRAL_HEAD_CARE = "When to see a healthcare professional, according to the article"
REFERRAL_HEAD_POSSIBLE = (
    "This may be one of the article's signs for seeing a healthcare professional; check it against these"
)
REFERRAL_HEAD_EARLIER = "Reminder: earlier you described signs the article says need a professional"
REFERRAL_OTHERS = "The article's other signs"
REFERRAL_DISCLAIMER = "General information from one article, not a diagnosis."

# Generative answerers. A base model (no chat template) gets INSTRUCTIONS, one worked example
# and the task as a plain completion; a chat model gets INSTRUCTIONS as its system message.
GENERATION_INSTRUCTIONS = (
    "Answer the question using only the numbered excerpts from an article about hip pain from running. "
    "End every sentence with the number of the excerpt it comes from, like [1]. "
    "Do not add doses, brands, diagnoses, procedures or anything else the excerpts do not say."
)
GENERATION_EXAMPLE = (
    "Excerpts:\n"
    "[1] Hydration: Staying hydrated is crucial for maintaining joint lubrication and overall health. "
    "Aim to drink plenty of water throughout the day.\n"
    "[2] Protein: Adequate protein intake is essential for muscle repair and recovery.\n"
    "Question: Why should I drink water?\n"
    "Answer: Staying hydrated is crucial for maintaining joint lubrication and overall health [1]. "
    "Aim to drink plenty of water throughout the day [1]."
)
GENERATION_TASK = "Excerpts:\n{excerpts}\nQuestion: {question}\nAnswer:"
GENERATION_STOP = ("\n", "Question:", "Excerpts:")
# One to four sentences, each closed by a marker naming an excerpt (llama.cpp GBNF).
GENERATION_GRAMMAR = r"""
root ::= sentence (" " sentence){0,3}
sentence ::= [A-Z] [^\[\]\n.?!]{5,240} " [" [1-8] "]."
"""
FALLBACK_NOTICE = "The {name} model's answer {why}, so this is the extractive answer, quoted from the article."
FALLBACK_WHY = {
    "unsupported": "could not be checked against the article",
    "timeout": "took too long",
    "error": "failed ({detail})",
}
PARTIAL_NOTICE = "The {name} model stopped early ({why}); only the sentences checked against the article are shown."

STILL_ANSWERING = (
    "Still answering your last question; your new one is kept in the box. Send it when the answer is done."
)
ANSWER_FAILED = "Sorry, something went wrong while answering. Your question is kept above; please try again."

SCOPE_LINE = (
    "Answers questions about hip pain from running, using one article: causes, prevention, "
    "treatment, nutrition, the mental side, when to seek help, and its FAQs."
)
DISCLAIMER = "General information from one article, not a diagnosis or medical advice."

# The page.
FEEDBACK_REASONS = {
    "wrong_source": "Wrong source",
    "missed_warning": "Missed a warning",
    "not_what_i_asked": "Not what I asked",
    "other": "Something else",
}
FEEDBACK_PROMPT = "What was wrong with this answer? (optional)"
FEEDBACK_THANKS = "Thank you: your vote is saved with the question and answer, nothing else about you."
FEEDBACK_SAVED = "Thank you: your feedback is saved."
SERVER_DOWN = (
    "The assistant cannot be reached right now (its server may be restarting). "
    "Your conversation and the text in the box are kept; send it again when this message goes away."
)
STOPPED_NOTICE = "Stopped: the answer was cut short at your request."
MCP_TOOL_NOTE = (
    "Returns 'content' (the answer to show as is: the article's referral first when one applies, sentences "
    "with [n] citation markers, then the sources) and 'answer' (citations, red flags, referral, abstention)."
)
