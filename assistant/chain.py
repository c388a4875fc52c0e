"""The retrieval chain as a LangChain Runnable: prepare | respond.

``prepare`` cleans the input, condenses a follow-up with the earlier turns,
embeds the query once, ranks chunks and judges scope. When the question itself
reports a red flag, the article's passage on it leads the hits and counts as
covered: a person who writes "I can't put weight on it" should read what the
article says about severe pain in the answer as well as in the referral.
A question about when to see a professional is covered too: the article has
a section on it, however far a terse "When should I worry?" sits from it.

``respond`` streams the answer: first the safety layer's referral, then the
answerer's sentences.
``Pipeline.stream`` and ``Pipeline.invoke`` run the same two steps without
LangChain's run machinery (config, callbacks), which cost about as much as
ranking on the article: ``Assistant.ask`` and ``stream`` use them, while
``Assistant.chain`` serves LangChain consumers (callbacks, tracing, async).
The referral is decided from the user's words and history alone, outside any
answerer, so nothing an answerer writes can remove it. ``invoke`` and
``batch`` return whole ``Answer`` objects (the sum of the stream). The async
methods (``ainvoke``, ``astream``, ``abatch``, ``astream_events``) run the same
steps on worker threads (``asyncio.to_thread``), so an event loop keeps serving
while an answer is computed.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import operator
import re
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import replace
from typing import Any, cast

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from . import cancel, nlp, texts
from .answer import Answer, Answerer, without_framing
from .compose import Composer, Plan
from .compose.words import ASKS_ELSE
from .embeddings import embed_query
from .history import clean_text, condense, normalize_history, point_back, topical_words, user_messages
from .retrieval import Hit, Ranker
from .safety import SafetyLayer
from .safety.names import RED_FLAGS
from .scope import Scope, ScopeJudge
from .scope.terms import AT_HIP, OTHER_BODY_PARTS
from .settings import Settings
from .spelling import Speller
from .store import IndexUnavailableError
from .turn import Clock, Turn

log = logging.getLogger(__name__)

_ASKS_WHEN = re.compile(r"(?i)\s*(?:when|at what point|how do i know when|how will i know when)\b")
"""A care question that asks when to get care, not whether one kind of care helps."""
_ASKS_SIGNS = re.compile(r"(?i)\b(?:which|what) (?:\w+ )?(?:symptoms|signs)\b")
"""A care question that asks which signs call for care."""
_CLAUSE_BREAK = re.compile(r"[.,;:!\n]|(?<=\?)")
"""Where a message's clauses end: a question in it is the clause that holds the question mark."""


def _timed(pieces: Iterator[Answer], clock: Clock, first: str, rest: str) -> Iterator[Answer]:
    """`pieces`, timing the work of the first under `first` and of the others under `rest` (not the reader's)."""
    step = first
    while True:
        clock.restart()
        try:
            piece = next(pieces)
        except StopIteration:
            return
        clock.lap(step)
        step = rest
        yield piece


class Pipeline:
    """The parts of the chain, wired once per Assistant."""

    NEAREST_LEXICAL = 0.3
    """A "not mentioned" answer quotes the nearest passage when the question is this close to it in words
    (BM25, squashed) even if not in meaning: "ice or heat?" is too short to embed near the ice passage,
    but the word it shares says the passage is what the article does say."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings,
        ranker: Ranker,
        judge: ScopeJudge,
        answerer: Answerer,
        safety: SafetyLayer,
        sections: list[str],
        composer: Composer,
        guard: Callable[[], None] | None = None,
        speller: Speller | None = None,
    ) -> None:
        self.guard = guard
        """Called before each question (the Assistant checks its index there)."""
        self.speller = speller
        """Reads misspelled words of a question as the article's words before it is retrieved and judged."""
        self.settings = settings
        self.embeddings = embeddings
        self.ranker = ranker
        self.judge = judge
        self.answerer = answerer
        self.safety = safety
        self.composer = composer
        self.topics = frozenset(ranker.vocabulary - composer.subject_stems)
        """What the article's passages name besides its subject ("ice", "surgery", "nutrition"): a follow-up that
        names one asks about it (``history.is_follow_up``)."""
        self.covers = texts.COVERS.format(
            sections="; ".join(s for s in sections if s not in ("Introduction", "Conclusion"))
        )

    def prepare(self, inputs: dict[str, Any] | str) -> Turn:
        clock = Clock()
        if not isinstance(inputs, dict):
            inputs = {"question": inputs}
        limit = self.settings.max_question_chars
        cleaned = clean_text(inputs.get("question"), limit)
        question = self.speller.text(cleaned.text) if self.speller else cleaned.text
        history = normalize_history(inputs.get("history"), limit=limit, max_messages=self.settings.max_history_messages)
        question = point_back(question, history)  # "tell me more about the second one": that item of the list
        # The safety layer reads all of the message and every earlier one, not the retrieval window.
        message = clean_text(inputs.get("question"), self.settings.max_safety_chars).text
        earlier = user_messages(
            normalize_history(
                inputs.get("history"),
                limit=self.settings.max_safety_chars,
                max_messages=self.settings.max_safety_messages,
            )
        )
        turn = Turn(question, history, "", np.zeros(0, np.float32), [], Scope(False, "empty", 0.0), clock=clock)
        turn = replace(
            turn,
            message=message,
            earlier=tuple(earlier),
            truncated=cleaned.truncated,
            debug=bool(inputs.get("debug", self.settings.debug)),
        )
        query = condense(question, history, self.topics) if question else ""
        clock.lap("condense")
        if not query:
            return turn
        try:
            return self._retrieve(turn, query)
        except Exception as exc:
            # Retrieval failed (a Chroma server gone away): the referral needs nothing from the index.
            if isinstance(exc, IndexUnavailableError):
                log.warning("retrieval failed, answering without the article: %s", exc)
            else:
                log.exception("retrieval failed, answering without the article")
            return replace(turn, query=query, scope=Scope(False, "unavailable", 0.0), problem=str(exc))

    def _retrieve(self, turn: Turn, query: str) -> Turn:
        clock = turn.clock
        if self.guard:
            self.guard()
        vector = embed_query(self.embeddings, query)
        clock.lap("embed")
        hits = self.ranker.rank(query, vector)
        clock.lap("rank")
        near = self.ranker.nearest_chunks(vector, self.judge.SENTENCE_POOL)
        similarity = max(max((h.dense for h in hits), default=0.0), self.judge.closest_sentence(vector, near))
        lexical = max((h.lexical for h in hits), default=0.0)
        best_text = hits[0].doc.page_content if hits else ""
        scope = self.judge.judge(turn.question, similarity, lexical, vector, best_text)
        clock.lap("scope")
        reported = self.safety.reported_chunks(turn.message)
        clock.lap("safety")
        plan = Plan("specific")
        if reported:
            # What the article says about the criteria the message reports leads. The criteria it does not report
            # would only pad the answer (the referral lists them all), and so would any other passage unless the
            # message also asks something ("hip is killing me, is there any medicine or shots that help?"): near
            # "I can't put weight on my hip" are the strengthening exercises (squats, lunges).
            unreported = self.safety.criterion_chunks - set(reported)
            listing = self._listing_beside(turn.question, vector, hits, reported)
            hits = [h for h in self.ranker.promote(hits, reported) if h.chunk_id not in unreported]
            if listing is not None:
                plan = listing
            elif not self._asks_more(turn.question):
                hits = hits[: len(reported)]
            # Wrapped in a role-play or a pace question, a reported red flag is still answered from the article.
            # One in another body part ("my Achilles is swollen") is not what the article describes: the answer
            # says it does not cover that, and the referral is shown all the same.
            elsewhere = scope.reason == "uncovered_subject" and self._elsewhere(turn.message)
            if scope.reason in ("off_topic", "uncovered_subject", "task", "missing_specific") and not elsewhere:
                scope = replace(scope, covered=True, reason="red_flag")
        else:
            if scope.reason == "off_topic" and self.safety.is_care_question(turn.question):
                scope = replace(scope, covered=True, reason="care_question")
            elif scope.reason == "off_topic" and (
                self.composer.asks_instead(turn.question) or self.composer.names_item(turn.question, scope.unknown)
            ):
                # "I can't afford physio, what else can I do?": the article's other options, however vague; "how do
                # I improve my running form?" names one of its items, whatever the request classifier reads.
                scope = replace(scope, covered=True, reason="ok")
            elif scope.reason == "task" and self.composer.summarizes_article(turn.question, vector):
                # "Summarize the article in one paragraph for my newsletter": the summary is what it can give.
                scope = replace(scope, covered=True, reason="ok")
            elif (
                scope.reason == "missing_specific"
                and scope.specific == "plan"
                and self.composer.names_sections(turn.question) > 1
            ):
                # "Give me the complete game plan for recovering: treatment, what to eat, and how to stay sane": no
                # personal plan, but the article's sections it names are the answer.
                scope = replace(scope, covered=True, reason="ok")
            elif scope.reason == "uncovered_subject" and not scope.unknown and self.composer.names_item(turn.question):
                # Another subject by the classifier's reading alone, no word of one: "how do I fix the muscle
                # imbalance one?" names an item of the article.
                scope = replace(scope, covered=True, reason="ok")
            if scope.reason not in ("small_talk", "task", "uncovered_subject", "missing_specific"):
                plan = self.composer.plan(turn.question, vector, hits)
            # A summary is always covered; a definition is when the article names the term.
            if plan.shape in ("summary", "definition") and not scope.covered:
                scope = replace(scope, covered=True, reason="ok")
            elif not scope.covered:
                plan = Plan("specific")
            plan = self._care_plan(turn.question, scope, plan)
            if plan.shape == "specific" and not plan.focus:
                hits = self.ranker.with_questions(query, vector, hits)
                # A lead-in that would answer alone announces its list ("Ensuring you're getting the right nutrients
                # can help ...:"): the list it announces is the answer.
                first = without_framing(hits)[:1]
                announced = self.composer.announced(first[0].chunk_id) if first and scope.covered else None
                plan = announced or plan
            if plan.shape == "specific" and scope.covered:
                # The twin of the passage the answer leads with (``answer.without_framing`` picks it).
                lead = plan.focus[:1] or tuple(h.chunk_id for h in without_framing(hits)[:1])
                twins = (
                    self.composer.related(lead[0], hits, turn.question, own=self.composer.asked(vector, lead[0]))
                    if lead
                    else ()
                )
                plan = replace(plan, related=tuple(t for t in twins if t not in plan.focus))
            if plan.focus:
                # The item the question names, whole (and its twin's best sentence): its neighbours in the ranking
                # would only pad it.
                named = [*plan.focus, *plan.related]
                hits = self.ranker.promote(hits, named)[: len(named)]
        clock.lap("plan")
        degraded = any(h.source == "memory" for h in hits)
        return replace(
            turn,
            query=query,
            vector=vector,
            hits=hits,
            scope=scope,
            reported=tuple(reported),
            plan=plan,
            degraded=degraded,
        )

    def _listing_beside(self, question: str, vector: np.ndarray, hits: list[Hit], reported: list[str]) -> Plan | None:
        """Pain that has lasted, and a question for the article's list ("My hip's been bad for 3 weeks even though
        I've been resting. What are my options now, and should I see someone?"): the list, the criterion first. The
        other criteria want care, not self-treatment: their passage alone answers ("I can't put weight on my hip,
        what should I do?"), unless the message asks which other signs want care too."""
        asks_when = any(_ASKS_WHEN.match(part) for part in _CLAUSE_BREAK.split(question))
        if self.safety.is_care_question(question) and (ASKS_ELSE.search(question) or asks_when):
            # "I can barely walk to the car. Should I get it looked at, and what else would count as a reason to see
            # someone?", "... not really getting better. at what point do i get it checked": every criterion, those
            # reported first.
            plan = self.criteria_listing
            for chunk_id in reversed(reported):
                plan = self.composer.leading(plan, chunk_id)
            return plan
        if set(reported) != {self.safety.criteria["persistent_pain"].chunk_id}:
            return None
        plan = self.composer.plan(question, vector, hits)
        if plan.shape != "list":
            return None
        return self.composer.leading(plan, reported[0])

    def _asks_more(self, message: str) -> bool:
        """Does a message that reports a red flag also ask about something else? A question of its own with a
        word that the rest of the message and the article's subject ("hip", "pain", "running") do not hold:
        "is there any medicine or shots that help?" does, "what should I do?" and "is it serious?" do not."""
        parts = [p for p in _CLAUSE_BREAK.split(message) if p.strip()]
        for i, part in enumerate(parts):
            if "?" not in part:
                continue
            rest = {nlp.stem(w) for other in parts[:i] + parts[i + 1 :] for w in nlp.words(other)}
            own = {nlp.stem(w) for w in topical_words(part)} - rest - self.composer.subject_stems
            if own:
                return True
        return False

    @functools.cached_property
    def criteria_listing(self) -> Plan:
        """The list of the article's referral criteria (the section of the first one)."""
        return self.composer.listing_of(self.safety.criteria[RED_FLAGS[0]].chunk_id)

    def _care_plan(self, question: str, scope: Scope, plan: Plan) -> Plan:
        """When to get care is answered by the article's criteria: every one of them for a care question that
        names none and was about to get one of them ("when should I see a doctor?"); the one it names when it
        names one ("is severe hip pain a reason to see a doctor?", "when should leg weakness be checked?")."""
        listing = self.criteria_listing
        one_passage = scope.covered and plan.shape == "specific" and not plan.focus
        care = one_passage and self.safety.is_care_question(question)
        if not care and not (plan.shape == "list" and plan.sections == listing.sections):
            return plan
        # A criterion named only to rule it out ("Other than numbness, what symptoms mean I should get help?") is
        # not the one asked about.
        named = self.safety.named_criteria(nlp.ruled_out(question))
        if len(named) == 1:
            return Plan("specific", focus=(self.safety.criteria[named[0]].chunk_id,), confidence=plan.confidence)
        # ... provided the passage it was about to get is one of them: "would a physio be worth it?" is physical therapy.
        about_care = bool(plan.chunks) and plan.chunks[0] in listing.chunks
        # "At what point do I need to see a physio instead of just resting?" asks when, which the criteria say, and
        # "which symptoms mean it needs medical attention?" asks for them.
        asks_when = bool(_ASKS_WHEN.match(question) or _ASKS_SIGNS.search(question))
        return listing if care and not named and (about_care or asks_when) else plan

    def _elsewhere(self, message: str) -> bool:
        """Is every red flag the message reports in another body part than the hip ("my knee is hot and
        swollen", "my ankle hurts so much I can't walk")? Numbness, tingling or weakness anywhere in the leg is the
        article's own criterion ("in your leg"), so it never is."""
        detections = self.safety.detect(message)
        sentences = [message[a:b] for a, b in nlp.sentence_spans(message)]
        for detection in detections:
            if detection.criterion == "nerve_symptoms":
                return False
            sentence = next((s for s in sentences if detection.trigger in s), message)
            words = set(nlp.words(sentence))
            if words & AT_HIP or not words & OTHER_BODY_PARTS:
                return False
        return bool(detections)

    def respond(self, turns: Iterator[Turn]) -> Generator[Answer, None, None]:
        for turn in turns:
            if turn.truncated:
                yield Answer(notice=texts.TRUNCATED_NOTICE.format(limit=self.settings.max_question_chars))
            if turn.degraded:
                yield Answer(notice=texts.DEGRADED_NOTICE)
            # Quoted whole by the extractive answerer, a listed section is in the answer, and so is each criterion the
            # message reports; a model may leave them out.
            listed: tuple[str, ...] = ()
            if self.answerer.name == "extractive":
                listed = turn.plan.chunks if turn.plan.shape == "list" else ()
                listed += turn.reported if turn.scope.covered else ()
            pieces = self.safety.apply(turn.message or turn.question, turn.earlier, self._answer(turn), listed)
            if not turn.debug:
                yield from pieces
                continue
            # The safety layer's assessment is the first piece; the answerer's work is every later one.
            yield from _timed(pieces, turn.clock, "safety", "answer")
            yield Answer(timings=dict(turn.clock.ms))

    def stream(self, inputs: dict[str, Any] | str) -> Iterator[Answer]:
        """The answer's pieces, as the chain streams them."""
        return self.respond(iter([self.prepare(inputs)]))

    def invoke(self, inputs: dict[str, Any] | str) -> Answer:
        """The whole answer, the sum of its pieces (as the chain's ``invoke`` adds them)."""
        return functools.reduce(operator.add, self.stream(inputs))

    def _answer(self, turn: Turn) -> Iterator[Answer]:
        scope = turn.scope
        if scope.reason == "unavailable":
            yield Answer(
                text=texts.INDEX_UNAVAILABLE,
                abstained=True,
                answerer="extractive",
                shape="specific",
                notice=turn.problem or None,
            )
        elif scope.reason == "empty":
            yield Answer(text=texts.EMPTY_QUESTION, abstained=True, answerer="extractive", shape="specific")
        elif scope.reason == "small_talk":
            yield Answer(
                text=texts.SMALL_TALK[scope.specific or "greeting"],
                abstained=True,
                answerer="extractive",
                shape="specific",
            )
        elif scope.reason == "task":
            yield Answer(text=texts.TASK_REFUSAL, abstained=True, answerer="extractive", shape="specific")
        elif scope.reason == "missing_specific":
            if scope.specific == "unmentioned":
                missing = texts.UNMENTIONED.format(terms=" or ".join(scope.unknown))
            else:
                missing = texts.MISSING_SPECIFIC.format(what=texts.SPECIFIC_KINDS[scope.specific or "amount"])
            # "What it does say" is the one nearest passage that states something, not a tour of loose ones;
            # for a diagnosis not a referral criterion ("what's wrong with my hip?" is no sign of infection: the
            # safety layer shows the criteria when a message reports one).
            criteria = self.safety.criterion_chunks if scope.specific == "diagnosis" else frozenset()
            stating = [h for h in turn.hits if h.doc.metadata.get("role") != "framing" and h.chunk_id not in criteria]
            nearest = stating[:1]
            near = scope.similarity >= self.judge.min_similarity
            if nearest and (near or nearest[0].lexical >= self.NEAREST_LEXICAL):
                yield Answer(text=f"{missing} {texts.DOES_SAY} ", abstained=True)
                yield from self.answerer.stream(replace(turn, hits=nearest))
            else:
                # Nothing in the article is near enough to quote as "what it does say".
                yield Answer(
                    text=f"{missing} {self.covers}",
                    abstained=True,
                    answerer="extractive",
                    shape="specific",
                )
        elif not scope.covered:
            yield Answer(
                text=f"{texts.NOT_COVERED} {self.covers}", abstained=True, answerer="extractive", shape="specific"
            )
        else:
            yield from self.answerer.stream(turn)

    async def aprepare(self, inputs: dict[str, Any] | str) -> Turn:
        """``prepare`` on a worker thread: it is CPU work (embedding, ranking) that must not block an event loop."""
        return await asyncio.to_thread(self.prepare, inputs)

    async def arespond(self, turns: AsyncIterator[Turn]) -> AsyncIterator[Answer]:
        """``respond`` for async callers: each piece is computed on a worker thread, yielded on the loop."""
        done = object()
        loop = asyncio.get_running_loop()
        async for turn in turns:
            pieces = self.respond(iter([turn]))
            # Like asyncio.to_thread, context variables travel (callbacks and tracing still see the run),
            # and one context for every step carries this answer's cancel flag to the answerer.
            context = contextvars.copy_context()
            flag = context.run(cancel.new_flag)
            step: asyncio.Future[object] | None = None
            try:
                while True:
                    step = loop.run_in_executor(None, functools.partial(context.run, next, pieces, done))
                    piece = await asyncio.shield(step)  # cancelling the caller must not mark the step done
                    if piece is done:
                        break
                    yield cast(Answer, piece)  # not `done`, so a piece of `respond`'s stream
            finally:
                # A caller that stops reading (a cancelled request, Stop on the page) ends the answerer's
                # work too: the flag cuts a model short, and the generator is closed once its step returns.
                flag.set()
                if step is not None and not step.done():

                    def close(_: object, pieces: Generator[Answer, None, None] = pieces) -> None:
                        pieces.close()  # these pieces: the default binds them before the loop moves on

                    step.add_done_callback(close)
                else:
                    pieces.close()

    def runnable(self) -> Runnable[dict[str, Any] | str, Answer]:
        prepare = RunnableLambda(self.prepare, afunc=self.aprepare).with_config(run_name="prepare")
        respond = RunnableGenerator(self.respond, self.arespond).with_config(run_name="respond")
        return (prepare | respond).with_config(run_name="hip_assistant")
