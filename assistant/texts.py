"""Fixed texts the assistant shows or sends to a model, in one place.

Nothing here is generated: these are the only words of an answer that do not
come from the article, so they are kept short, plain and reviewable.
"""

EMPTY_QUESTION = "Please type a question about hip pain from running."

NOT_COVERED = "The article doesn't cover that."
COVERS = "It covers: {sections}."

MISSING_SPECIFIC = "The article doesn't give {what}. Here is what it does say."
SPECIFIC_KINDS = {
    "dose": "doses or amounts of medication",
    "amount": "specific amounts",
    "brand": "brand names or product recommendations",
}

TRUNCATED_NOTICE = "Your message was long, so only its first {limit:,} characters were used to answer."

# The safety layer's referral. The criteria themselves are quoted from the article.
URGENCY = {
    "severe_pain": "seek immediate medical attention",
    "infection": "needs prompt treatment",
    "nerve_symptoms": "have it evaluated by a professional",
    "persistent_pain": "see a healthcare provider",
}
REFERRAL_HEAD_FLAGGED = (
    "What you describe matches the article's signs for seeing a healthcare professional "
    "(When to Seek Professional Help). Yours first:"
)
REFERRAL_HEAD_CARE = "The article says to seek professional help in these cases (When to Seek Professional Help):"
REFERRAL_HEAD_EARLIER = "Earlier in this conversation you described signs the article says need professional care:"
REFERRAL_DISCLAIMER = "This assistant gives general information from one article; it is not a diagnosis."

ANSWER_FAILED = "Sorry, something went wrong while answering. Your question is kept above; please try again."

SCOPE_LINE = (
    "Answers questions about hip pain from running, using one article: causes, prevention, "
    "treatment, nutrition, the mental side, when to seek help, and its FAQs."
)
DISCLAIMER = "General information from one article, not a diagnosis or medical advice."
