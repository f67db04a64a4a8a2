"""The local extractor: offline, deterministic, from what people say to beliefs about them.

Per user message (read with the turns just before it):
1. parse it with the language pipeline (``language``: spaCy — sentences, lemmas, dependencies,
   entities);
2. a pick among options the assistant just offered is a preference (``choices``);
3. per sentence, decide what it does (``speech``): questions, greetings, thanks, backchannels and
   pep talk are left alone; an instruction to the assistant ("please keep answers short") is a
   communication preference; a sentence about the speaker goes on;
4. resolve what "it", "that" and "there" refer to (``referents``): a sentence that cannot stand on
   its own joins the sentence of the same message it refers to, takes the referent from an earlier
   turn, or is left out; so is one that says nothing beyond pleasantries;
5. read what it asserts (``frames``: kind, hedging, negation and change, single-valued facets,
   topics, people and pets), write it in the third person about the named speaker (``wording``),
   resolve relative dates against the message date (``dates``), and for a denial or a change name
   the affirmative claim it denies.

No model beyond the parser, no network; the same input always gives the same candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time

from spacy.tokens import Doc, Span, Token

from selfmodel.domain import BeliefFrame, BeliefKind, BeliefOrigin, Facet, Observation, Role
from selfmodel.domain.messages import ADDRESSEE
from selfmodel.extraction import choices, referents, speech, wording
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest, Extractor
from selfmodel.extraction.dates import find_relative_dates, rewrite_relative_dates
from selfmodel.extraction.frames import MILD_HEDGE_STRENGTH, Assertion, read_assertion
from selfmodel.extraction.language import Language
from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.mentions import topics as read_topics
from selfmodel.extraction.stance import STATEMENTS as STANCE_STATEMENTS
from selfmodel.extraction.stance import Stance, stance_toward_listener

# Turns before a message read to resolve its references and choices.
CONTEXT_TURNS = 3
# A sentence needs this many content words (after pleasantries) to say something about the
# speaker: "I love it!", "I'm so glad" and "I know, right?" say nothing. A self-description
# ("I'm a nurse", "I love pottery") needs one; any other statement two, so that pep talk
# ("I'm gonna keep going and reach my dreams") stays small talk.
MIN_CONTENT_WORDS = 1
MIN_CONTENT_WORDS_OTHER = 2
# Kinds where pep talk and chit-chat live ("I'm gonna keep going", "I was so happy"): they need
# more than one content word.
CHATTY_KINDS = frozenset(
    [BeliefKind.EXPERIENCE, BeliefKind.STATE, BeliefKind.OPINION, BeliefKind.FACT]
)
# One belief per message (instructions to the assistant aside), made of its most informative
# sentences: annotators and people alike summarise a turn, not each of its sentences.
MAX_BELIEFS_PER_MESSAGE = 1
MAX_SENTENCES = 3
# An opinion about something else ranks below what the speaker says about themselves.
OPINION_PENALTY = 1
# Photos a speaker shares are described after their words (see ingest.files); a caption is not
# something the speaker said.
_SHARED_PHOTO = re.compile(r"\s*\[shares a photo:[^\]]*\]\s*$")

# How a facet a sentence sets beside its main point is stated as a belief of its own.
FACET_STATEMENTS = {
    Facet.RESIDENCE: "{name} lives in {value}",
    Facet.EMPLOYER: "{name} works at {value}",
    Facet.OCCUPATION: "{name} works as {value}",
    Facet.DIET: "{name} is {value}",
    Facet.RELATIONSHIP_STATUS: "{name} is {value}",
}
FACET_KINDS = {
    Facet.RESIDENCE: BeliefKind.FACT,
    Facet.EMPLOYER: BeliefKind.FACT,
    Facet.OCCUPATION: BeliefKind.IDENTITY,
    Facet.DIET: BeliefKind.IDENTITY,
    Facet.RELATIONSHIP_STATUS: BeliefKind.RELATIONSHIP,
}

# Sentence boundaries for ``split_sentences`` (used by baselines that keep sentences verbatim).
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]]*(?=\s|$)|\n+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+")
_ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "approx", "no", "prof"]
)


@dataclass(frozen=True)
class Sentence:
    """A sentence of plain text with its character span (see ``split_sentences``)."""

    start: int
    end: int
    text: str


@dataclass
class _Draft:
    """A candidate being written: a sentence (or a few joined by reference) about the speaker."""

    statement: str
    kind: BeliefKind
    strength: float
    origin: BeliefOrigin
    frame: BeliefFrame
    start: int
    end: int
    contradicts: str | None = None
    valid_from: datetime | None = None
    content: int = 0  # content words: how much it says
    also: list[_Draft] = field(default_factory=list)  # further facets the sentence set
    remark: bool = False  # a view of something else, not a statement about the speaker
    specific: bool = True  # names something: a thing, a name, a number or a date


class LocalExtractor(Extractor):
    """Rule-based extraction over a spaCy parse; no LLM, no network."""

    name = "local"
    version = "local-3"

    def __init__(self, language: Language | None = None) -> None:
        self.language = language or Language()

    def extract(self, requests: Sequence[ExtractionRequest]) -> list[CandidateBelief]:
        mine = [r for r in requests if r.observation.role is Role.USER]
        if not mine:
            return []
        texts = [spoken(r.observation.content) for r in mine]
        context = [spoken(o.content) for r in mine for o in r.preceding[-CONTEXT_TURNS:]]
        parsed = dict(zip(texts + context, self.language.parse(texts + context), strict=True))
        candidates: list[CandidateBelief] = []
        for request in mine:
            before = [(o, parsed[spoken(o.content)]) for o in request.preceding[-CONTEXT_TURNS:]]
            doc = parsed[spoken(request.observation.content)]
            candidates.extend(self._read(request, doc, before))
        return candidates

    # -- one message -------------------------------------------------------------------------
    def _read(
        self,
        request: ExtractionRequest,
        doc: Doc,
        before: list[tuple[Observation, Doc]],
    ) -> Iterator[CandidateBelief]:
        observation = request.observation
        subject = request.subject
        choice = self._choice(subject, doc, before)
        if choice is not None:
            yield self._candidate(observation, choice)
            return
        names = frozenset(
            n.lower() for o, _ in before for n in (o.speaker,) if n and n != subject
        ) | {e.text.lower() for e in doc.ents if e.label_ == "PERSON"}
        said_to = observation.metadata.get(ADDRESSEE)  # validated as a name when observed
        addressee = said_to if isinstance(said_to, str) and said_to else None
        listener = _known_as(_listener(doc, before, subject), addressee)
        owned = _owned(doc, before, subject)
        towards = _known_as(_other_person(doc, before, subject, observation.occurred_at), addressee)
        instructions: list[_Draft] = []
        separate: list[_Draft] = []
        drafts: list[_Draft] = []
        last_kept: Span | None = None
        sentences = list(doc.sents)
        stances: dict[Stance, Span] = {}
        for position, sentence in enumerate(sentences):
            reading = speech.read_sentence(sentence, names, owned)
            draft: _Draft | None = None
            joins = False
            stance = stance_toward_listener(reading.tokens) if towards else None
            if stance is not None:
                stances.setdefault(stance, sentence)
                last_kept = None
                continue
            if reading.act is speech.Act.INSTRUCTION:
                if towards is None:
                    instructions.append(self._instruction(reading.tokens, subject, sentence))
                elif not _reacts(reading.tokens):
                    # To a friend, "Help with marketing?" asks them, not the assistant.
                    draft = self._instruction(reading.tokens, subject, sentence, towards)
                # "Love all the details!" to a friend is "I love…": a compliment, not a request.
            elif reading.act is speech.Act.ABOUT_SPEAKER:
                draft, joins = self._about_speaker(
                    reading, subject, sentence, sentences[:position], before, last_kept,
                    observation.occurred_at, listener, owned,
                )  # fmt: skip
            elif reading.act is speech.Act.ABOUT_OTHERS:
                draft = self._opinion(reading.tokens, subject, sentence, listener)
            if draft is None:
                last_kept = None
                continue
            separate.extend(draft.also)
            if draft.frame.facet is not None or draft.frame.domain is not None:
                # A facet ("I moved to Leeds") or a way to be answered stays a belief of its
                # own, so what it sets is not blurred by the sentences around it.
                separate.append(draft)
            elif joins and drafts:
                drafts[-1] = _joined(drafts[-1], draft)
            else:
                drafts.append(draft)
            last_kept = sentence
        if all(d.remark for d in drafts):
            # A remark about the world or the listener joins what a message says about the
            # speaker; on its own ("Talking about acceptance is crucial") it is conversation.
            drafts = []
        if any(d.specific for d in drafts):
            # "…; I'm gonna make it happen!": beside what a message tells, a sentence that
            # names nothing ("I'm excited to see where it takes me") is pep, not news.
            drafts = [d for d in drafts if d.specific]
        if len(drafts) > MAX_BELIEFS_PER_MESSAGE:
            # One belief per message: its most informative sentences, in their order.
            ranked = sorted(range(len(drafts)), key=lambda i: -drafts[i].content)
            kept = sorted(ranked[:MAX_SENTENCES])
            merged = drafts[kept[0]]
            for i in kept[1:]:
                merged = _joined(merged, drafts[i])
            drafts = [merged]
        stanced = [_stance(kind, subject, towards, at) for kind, at in stances.items() if towards]
        for draft in [*instructions, *separate, *drafts, *stanced]:
            yield self._candidate(observation, draft)

    def _opinion(
        self, tokens: Sequence[Token], subject: str, sentence: Span, listener: str | None
    ) -> _Draft | None:
        """A view the speaker states about something else: "Talking about acceptance is
        crucial", or, to a named listener, "You're so strong" -> "<subject> thinks <listener> is
        so strong". Opinions say what someone values; pleasantries and "it/that" remarks do not."""
        words = [t for t in tokens if not t.is_punct]
        if not words:
            return None
        root = sentence.root
        kept = {t.i for t in tokens}  # a vocative the parser made a subject is gone
        subject_token = next(
            (c for c in root.children if c.dep_ in speech.SUBJECTS and c.i in kept), None
        )
        if subject_token is None or subject_token.lower_ in referents.REFERRING:
            return None
        second = subject_token.lower_ in speech.SECOND_PERSON
        if second and listener is None:
            return None
        if not second and (subject_token.pos_ == "PROPN" or subject_token.ent_type_ == "PERSON"):
            return None  # about a third person: not this person's self-model
        if any(t.lower_ in speech.SECOND_PERSON for t in words) and listener is None:
            return None
        if not any(_judges(t) for t in words):
            return None  # a description of the world ("the trail was muddy") is no view
        content = _content_words(words)
        if content < MIN_CONTENT_WORDS_OTHER + (0 if second else 1):
            return None
        # With its punctuation, so "amazing, so much pride" does not become "amazingso much".
        view = wording.third_person(tokens, subject, listener=listener, named=True)
        return _Draft(
            statement=wording.finish(f"{subject} thinks {_lower_unless_named(view, words[0])}"),
            kind=BeliefKind.OPINION,
            strength=MILD_HEDGE_STRENGTH,
            origin=BeliefOrigin.INFERRED,
            frame=BeliefFrame(topics=read_topics(words)),
            start=sentence.start_char,
            end=sentence.end_char,
            content=content - OPINION_PENALTY,
            remark=True,
        )

    def _about_speaker(
        self,
        reading: speech.SentenceReading,
        subject: str,
        sentence: Span,
        earlier: Sequence[Span],
        before: list[tuple[Observation, Doc]],
        last_kept: Span | None,
        occurred_at: datetime,
        listener: str | None,
        owned: frozenset[str],
    ) -> tuple[_Draft | None, bool]:
        """A draft for a sentence about the speaker, and whether it joins the previous one."""
        tokens: Sequence[Token] = reading.tokens
        subjectless = reading.subjectless
        if subjectless:
            # "Went camping with the kids": read it as "I went camping with the kids".
            reparsed = self.language.parse([_with_subject(tokens)])[0]
            tokens = [t for t in reparsed if not t.is_space]
        if listener is None and any(t.lower_ in speech.SECOND_PERSON for t in tokens):
            # "You worked so hard, and I booked my flight": keep the speaker's own clause; a
            # clause about someone we cannot name ("I'm so proud of you") says nothing.
            tokens = _clauses_without_second_person(tokens)
            if not tokens:
                return None, False
        replace: dict[int, str] = {
            t.i: f"{subject}'s home" for t in tokens if speech.is_own_home(t)
        }
        for token in tokens:
            the = speech.owned_subject(token, owned) if token.dep_ in speech.SUBJECTS else None
            if the is not None:
                replace[the.i] = f"{subject}'s"  # "The store's doing great" -> "Gina's store …"
        joins = False
        anchors = 0
        for pronoun in referents.referring_pronouns(tokens):
            found = referents.resolve(pronoun, earlier, [d for _, d in before])
            verdict = referents.judges_an_event(pronoun)
            if verdict and not (found and found.in_same_message):
                continue  # "It was so scary": a verdict on the event told, kept as said
            if found is None:
                # What "it" means is nowhere to be found: a clause beside the main one goes
                # ("Went hiking and it was gorgeous" keeps the hike); a main clause cannot stand.
                reduced = _without_clause_of(tokens, pronoun)
                if reduced is None:
                    return None, False
                tokens = reduced
                continue
            anchors += 1
            if found.same_sentence:
                continue
            if found.in_same_message and last_kept is not None:
                # The referent is in a sentence this belief keeps: the sentences stay together
                # rather than the pronoun being rewritten ("I painted that lake sunrise. It's
                # special to me").
                joins = True
            else:
                replace[pronoun.i] = found.text
        content = _content_words(tokens) + anchors
        assertion = read_assertion(tokens, subjectless=False)
        if assertion.frame.facet is not None:
            needed = 0  # "I'm seeing someone": a facet is worth a belief however it is said
        elif (
            assertion.kind in CHATTY_KINDS
            and not joins
            # "I don't run anymore": short, but it ends something the model may hold.
            and not (assertion.frame.negated and assertion.frame.change)
        ):
            needed = MIN_CONTENT_WORDS_OTHER
        else:
            needed = MIN_CONTENT_WORDS
        if content < needed or (
            assertion.kind in (BeliefKind.PLAN, BeliefKind.GOAL)
            and (_perseveres(tokens) or (not joins and _vague(tokens)))
        ):
            return None, False
        family = any(t.lemma_.lower() in lexicon().family_words for t in tokens)
        valued = _valued_thing(tokens)
        if valued is not None:
            # "Family time matters to me" is what they value: said the way "I value family
            # time" is, so the two wordings are one belief.
            thing = wording.third_person(list(valued.subtree), subject, replace=replace, named=True)
            if not thing.startswith(subject):
                thing = _lower_unless_named(thing, valued.left_edge)
            statement = f"{subject} values {thing}"
        else:
            statement = wording.third_person(
                tokens, subject, replace=replace, family=family, named=joins, listener=listener
            )
        draft = self._dated(
            assertion, statement, subject, tokens, replace, sentence, occurred_at, family
        )
        draft.content = content
        draft.specific = _names_something(tokens) or joins
        if valued is not None:
            draft.kind = BeliefKind.VALUE
        elif not joins and _verdict_on_something(tokens):
            draft.remark = True
        draft.also = [
            _Draft(
                statement=wording.finish(FACET_STATEMENTS[facet].format(name=subject, value=value)),
                kind=FACET_KINDS[facet],
                strength=draft.strength,
                origin=draft.origin,
                frame=BeliefFrame(facet=facet, value=value, change=draft.frame.change),
                start=draft.start,
                end=draft.end,
                valid_from=draft.valid_from,
            )
            for facet, value in assertion.extra_facets
            if facet in FACET_STATEMENTS
        ]
        return draft, joins

    def _dated(
        self,
        assertion: Assertion,
        statement: str,
        subject: str,
        tokens: Sequence[Token],
        replace: dict[int, str],
        sentence: Span,
        occurred_at: datetime,
        family: bool,
    ) -> _Draft:
        kind = assertion.kind
        mentions = find_relative_dates(
            statement, occurred_at, prefer_future=kind is BeliefKind.PLAN or assertion.progressive
        )
        statement = rewrite_relative_dates(statement, mentions)
        if any(m.period_start > occurred_at.date() for m in mentions) and kind not in (
            BeliefKind.GOAL,
            BeliefKind.HABIT,
        ):
            kind = BeliefKind.PLAN  # a statement about a date ahead is an arrangement
        past = [m for m in mentions if m.period_start <= occurred_at.date()]
        valid_from = (
            datetime.combine(past[0].period_start, time(), tzinfo=occurred_at.tzinfo)
            if past
            else None
        )
        contradicts = None
        if assertion.frame.negated:
            if assertion.claim_object:
                contradicts = wording.finish(f"{subject} {assertion.claim_object}")
            elif assertion.frame.change and not assertion.claim_drop:
                contradicts = None  # "I kicked the habit": what it ended is not in the words
            else:
                contradicts = wording.third_person(
                    tokens,
                    subject,
                    replace={**replace, **assertion.claim_replace},
                    drop=assertion.claim_drop,
                    family=family,
                )
        return _Draft(
            statement=statement,
            kind=kind,
            strength=assertion.strength,
            origin=BeliefOrigin.STATED if assertion.stated else BeliefOrigin.INFERRED,
            frame=assertion.frame,
            start=sentence.start_char,
            end=sentence.end_char,
            contradicts=contradicts if contradicts and contradicts != statement else None,
            valid_from=valid_from,
        )

    def _instruction(
        self, tokens: Sequence[Token], subject: str, sentence: Span, person: str | None = None
    ) -> _Draft:
        """ "Please keep answers short" -> "<subject> wants answers kept short" (the assistant's
        way of answering, a communication preference). Asked of a ``person`` the speaker talks
        with, it is what the speaker wants of them ("<subject> wants Gina to help with …")."""
        clause, negated = _instruction_clause(tokens, subject, person)
        addressee = person or "the assistant"
        wording_ = f"{subject} wants {addressee} {'not ' if negated else ''}to {clause}"
        words = [t for t in tokens if not t.is_punct]
        topics = tuple(
            dict.fromkeys(
                t.lemma_.lower()
                for t in words
                if t.lemma_.lower() in lexicon().communication_nouns
                or t.lemma_.lower() in lexicon().communication_adjectives
            )
        )
        if person is not None:
            return _Draft(
                statement=wording.finish(wording_),
                kind=BeliefKind.GOAL,
                strength=1.0,
                origin=BeliefOrigin.STATED,
                frame=BeliefFrame(topics=read_topics(words)),
                start=sentence.start_char,
                end=sentence.end_char,
                content=_content_words(words),
            )
        return _Draft(
            statement=wording.finish(wording_),
            kind=BeliefKind.PREFERENCE,
            strength=1.0,
            origin=BeliefOrigin.STATED,
            frame=BeliefFrame(negated=False, topics=topics, domain="communication"),
            start=sentence.start_char,
            end=sentence.end_char,
        )

    def _choice(
        self, subject: str, doc: Doc, before: list[tuple[Observation, Doc]]
    ) -> _Draft | None:
        """A pick among the options the other party offered in the turn just before."""
        if not before or before[-1][0].role is Role.USER:
            return None
        options = choices.offered_options(before[-1][1])
        tokens = [t for t in doc if not t.is_space]
        picked = choices.chosen_option(tokens, options)
        if picked is None:
            return None
        others = [o.text for o in options if o is not picked]
        statement = f"{subject} chose {picked.text}"
        if others:
            statement += " over " + " and ".join(others[:3])
        return _Draft(
            statement=wording.finish(statement),
            kind=BeliefKind.PREFERENCE,
            strength=1.0,
            origin=BeliefOrigin.STATED,
            frame=BeliefFrame(topics=tuple(sorted(picked.lemmas))),
            start=0,
            end=len(doc.text),
        )

    @staticmethod
    def _candidate(observation: Observation, draft: _Draft) -> CandidateBelief:
        content = observation.content
        return CandidateBelief(
            statement=draft.statement,
            kind=draft.kind,
            observation_id=observation.id,
            strength=draft.strength,
            origin=draft.origin,
            contradicts=draft.contradicts,
            frame=draft.frame,
            span_start=draft.start,
            span_end=draft.end,
            quote=content[draft.start : draft.end],
            valid_from=draft.valid_from,
            extractor=f"{LocalExtractor.name}:{LocalExtractor.version}",
        )


def _stance(kind: Stance, subject: str, listener: str, sentence: Span) -> _Draft:
    """The one statement a stance toward the listener becomes, however it was worded."""
    return _Draft(
        statement=wording.finish(
            STANCE_STATEMENTS[kind].format(subject=subject, listener=listener)
        ),
        kind=BeliefKind.RELATIONSHIP,
        strength=MILD_HEDGE_STRENGTH,  # read from how they talk, not said of themselves
        origin=BeliefOrigin.INFERRED,
        frame=BeliefFrame(stance=f"{kind.value}:{listener}"),
        start=sentence.start_char,
        end=sentence.end_char,
    )


def _other_person(
    doc: Doc, before: list[tuple[Observation, Doc]], subject: str, at: datetime
) -> str | None:
    """The person the speaker is talking with, by the name they are known under: the other
    speaker of the turns before ("Mel" and "Melanie" are one person), else a name this message
    or an earlier one of the same day addresses ("Thanks, Jon!"). None for the assistant: how
    one talks to it is no relationship."""
    addressed = _addressed(doc, subject)
    for observation, earlier in reversed(before):
        if observation.role is Role.ASSISTANT:
            return None
        if observation.speaker and observation.speaker != subject:
            return observation.speaker
        if addressed is None and observation.occurred_at.date() == at.date():
            addressed = _addressed(earlier, subject)
    return addressed


# Predicates of "<something> matters / is important / means a lot to me".
_MATTERING_ADJECTIVES = frozenset(["important", "dear", "precious", "essential", "vital"])
_MUCH = frozenset(["lot", "world", "everything"])
# Clauses that say more than that something matters ("… important to me as it reflects …").
_MORE_SAID = frozenset(["conj", "advcl", "ccomp", "xcomp", "parataxis"])


def _valued_thing(tokens: Sequence[Token]) -> Token | None:
    """The subject of a whole sentence saying it matters to the speaker ("Family time matters
    to me", "Mental health is so important to me", "My kids mean the world to me"); None for
    anything else, or when the sentence says more than that."""
    for token in tokens:
        if token.lower_ not in ("me", "us") or token.dep_ != "pobj" or token.head.lower_ != "to":
            continue
        predicate = token.head.head
        lemma = predicate.lemma_.lower()
        if lemma in _MATTERING_ADJECTIVES and predicate.dep_ == "acomp":
            clause = predicate.head
        elif lemma == "matter" or (
            lemma == "mean" and any(c.lemma_.lower() in _MUCH for c in predicate.children)
        ):
            clause = predicate
        else:
            continue
        thing = next((c for c in clause.children if c.dep_ in ("nsubj", "csubj")), None)
        if (
            clause.dep_ != "ROOT"
            or any(c.dep_ in _MORE_SAID for w in (clause, predicate) for c in w.children)
            or thing is None
            or thing.pos_ == "PRON"
            or any(t.lower_ in speech.SECOND_PERSON for t in thing.subtree)
        ):
            return None
        return thing
    return None


def _owned(doc: Doc, before: list[tuple[Observation, Doc]], subject: str) -> frozenset[str]:
    """Lemmas of the nouns the speaker called theirs ("my store", "our kids") in this message
    and their own turns just before it."""
    docs = [doc] + [
        earlier
        for observation, earlier in before
        if observation.role is Role.USER and observation.speaker in (None, subject)
    ]
    return frozenset(
        t.head.lemma_.lower()
        for d in docs
        for t in d
        if t.dep_ == "poss" and t.lower_ in ("my", "our") and t.head.pos_ == "NOUN"
    )


def _perseveres(tokens: Sequence[Token]) -> bool:
    """ "I'm gonna keep pushing and working hard", "I'll keep chasing my dreams", "I won't give
    up": a resolve to persevere, said to cheer oneself (or a friend) on, names no plan. With
    something specific to keep at ("I'll keep working on my pottery") it is one."""
    generic = lexicon().generic_nouns

    def nothing_specific(verb: Token) -> bool:
        return all(
            t.lemma_.lower() in generic or t.pos_ == "PRON"
            for t in verb.subtree
            if t.pos_ in ("NOUN", "PROPN", "PRON") and t.i != verb.i
        )

    for token in tokens:
        lemma = token.lemma_.lower()
        if lemma in ("keep", "continue") and token.pos_ == "VERB":
            going = [c for c in token.children if c.dep_ in ("xcomp", "dobj") and c.tag_ == "VBG"]
            if going and all(nothing_specific(g) for g in going):
                return True
        if lemma in ("give", "quit") and any(
            c.dep_ == "neg" or c.lower_ == "never" for c in token.children
        ):
            return nothing_specific(token)
    return False


def _verdict_on_something(tokens: Sequence[Token]) -> bool:
    """ "Having my fam around helps a lot", "Seeing my kids so happy was the best", "It's awesome
    to see the difference we make": a verdict on a thing or a moment that names nobody and no
    time, and whose subjects are neither the speaker, nor theirs ("my fam"), nor a pastime
    ("Painting's a fun way to unwind"). It joins what the message says about the speaker; on its
    own it is conversation."""
    subjects = [t for t in tokens if t.dep_ in speech.SUBJECTS]
    referring = {t.i for t in referents.referring_pronouns(tokens)}
    if not subjects or any(
        s.lower_ in speech.FIRST_PERSON
        # "This has been great for my mental health": about what was just told.
        or (s.i in referring and s.head.dep_ == "ROOT")
        or s.lower_ in lexicon().pastimes  # "Painting's a fun way to…": their pastime
        or any(c.dep_ == "poss" and c.lower_ in speech.FIRST_PERSON for c in s.children)
        for s in subjects
    ):
        return False
    return not any(_is_named(t) for t in tokens) and any(_judges(t) for t in tokens)


def _is_named(token: Token) -> bool:
    """A name, a number, a date or time, a place, organisation or event."""
    return token.pos_ in ("PROPN", "NUM") or token.ent_type_ in (
        "DATE", "TIME", "GPE", "LOC", "ORG", "FAC", "EVENT"
    )  # fmt: skip


def _names_something(tokens: Sequence[Token]) -> bool:
    """Whether a sentence names anything: a thing that is not generic ("my store", "pottery"),
    a name, a number or a date. "I'm gonna make it happen" and "It's been a wild ride" do not."""
    generic = lexicon().generic_nouns
    return any(
        _is_named(t) or (t.pos_ == "NOUN" and t.lemma_.lower() not in generic) for t in tokens
    )


# Verbs that begin or go on with something: "I'll start thinking about it" names no plan.
_ASPECTUAL_VERBS = frozenset(["start", "begin", "continue"])


def _vague(tokens: Sequence[Token]) -> bool:
    """ "I'll start thinking about what I can do", "We'll make some awesome memories": an
    intention that names nothing and does nothing but light verbs — no plan to hold anyone to."""
    light = lexicon().light_verbs | _ASPECTUAL_VERBS
    return not _names_something(tokens) and all(
        t.lemma_.lower() in light for t in tokens if t.pos_ == "VERB"
    )


def _reacts(tokens: Sequence[Token]) -> bool:
    """ "Love all the details!", "Appreciate your kind words": a liking verb with its "I"
    dropped, in reply to what the listener shared or said."""
    first = next((t for t in tokens if not t.is_punct), None)
    return first is not None and (
        first.lemma_.lower() in lexicon().liking_verbs or first.lemma_.lower() == "appreciate"
    )


def _known_as(name: str | None, addressee: str | None) -> str | None:
    """``name`` as the conversation knows the person spoken to: "Mel" is "Melanie" when the
    message is addressed to Melanie; with no name in the words, the addressee."""
    if addressee is None:
        return name
    if name is None or addressee.lower().startswith(name.lower()):
        return addressee
    return name


def _addressed(doc: Doc, subject: str) -> str | None:
    name = _listener(doc, [], subject)
    if name is None or name.lower() in lexicon().small_talk:
        return None  # "Yep, …" and "Cool, …" are read as names now and then
    return name


def _listener(doc: Doc, before: list[tuple[Observation, Doc]], subject: str) -> str | None:
    """Whom the message speaks to: a name it addresses ("Thanks, Jon!"), else the last other
    speaker. None when nobody can be named — then "you" cannot be written as anyone."""
    for token in doc:
        if (
            token.pos_ != "PROPN"
            or token.lower_ == subject.lower()
            or token.ent_type_ in ("DATE", "GPE", "LOC", "ORG", "TIME", "EVENT", "NORP")
        ):
            continue
        after = doc[token.i + 1] if token.i + 1 < len(doc) else None
        before_token = doc[token.i - 1] if token.i > 0 else None
        if (after is None or after.is_punct) and (
            before_token is None
            or before_token.is_punct
            or before_token.pos_ == "INTJ"
            or before_token.lemma_.lower() in lexicon().small_talk
        ):
            return token.text  # "Thanks, Priya!", "Hey Mel,", "…, Jon."
    for observation, _ in reversed(before):
        if observation.speaker and observation.speaker != subject:
            return observation.speaker
        if observation.role is Role.ASSISTANT:
            return None
    return None


def spoken(content: str) -> str:
    """What the speaker said: straight apostrophes, without a shared photo's caption."""
    return _SHARED_PHOTO.sub("", content.replace("\u2019", "'").replace("\u2018", "'"))


def _joined(first: _Draft, second: _Draft) -> _Draft:
    frame = first.frame.model_copy(
        update={
            "topics": tuple(dict.fromkeys((*first.frame.topics, *second.frame.topics))),
            "related": tuple(dict.fromkeys((*first.frame.related, *second.frame.related))),
            # "Painting's great for me; I love creating art": what any sentence shows they like.
            "interests": tuple(dict.fromkeys((*first.frame.interests, *second.frame.interests))),
        }
    )
    return replace(
        first,
        statement=f"{first.statement}; {_continuing(second.statement)}",
        end=second.end,
        frame=frame,
        strength=min(first.strength, second.strength),
        content=first.content + second.content,
    )


def _clauses_without_second_person(tokens: Sequence[Token]) -> list[Token]:
    """The clauses of a sentence (verbs with a subject of their own) that do not say "you"."""
    heads = [
        t for t in tokens
        if t.pos_ in ("VERB", "AUX") and t.dep_ in ("ROOT", "conj")
        and any(c.dep_ in speech.SUBJECTS for c in t.children)
    ]  # fmt: skip
    kept: list[Token] = []
    for head in heads:
        others = {
            c.i for other in heads if other != head and other.head == head for c in other.subtree
        }
        clause = [t for t in head.subtree if t.i not in others and not _joins(t, head)]
        while clause and (clause[0].dep_ in ("cc", "punct") or clause[0].is_punct):
            clause = clause[1:]
        if clause and not any(t.lower_ in speech.SECOND_PERSON for t in clause):
            kept.extend(clause)
    return sorted(kept, key=lambda t: t.i)


def _without_clause_of(tokens: Sequence[Token], token: Token) -> list[Token] | None:
    """``tokens`` without the coordinated or subordinate clause ``token`` is in (and the
    conjunction before it); None when it is in the main clause."""
    head = token
    while head.dep_ not in ("conj", "advcl", "ccomp", "ROOT") or head.pos_ not in ("VERB", "AUX"):
        if head.head.i == head.i:
            return None
        head = head.head
    if head.dep_ == "ROOT" or not any(c.dep_ in speech.SUBJECTS for c in head.children):
        return None
    gone = {t.i for t in head.subtree}
    # The "and" / comma that joined it to the clause before.
    gone |= {
        c.i for c in head.head.children if c.dep_ in ("cc", "punct") and head.head.i < c.i < head.i
    }
    gone |= {c.i for c in head.children if c.dep_ in ("cc", "mark")}
    kept = [t for t in tokens if t.i not in gone]
    while kept and (kept[-1].dep_ in ("cc", "punct") or kept[-1].is_punct):
        kept = kept[:-1]
    return kept or None


def _joins(token: Token, head: Token) -> bool:
    """A conjunction or comma before ``head`` that links its clause to the one before."""
    return token.dep_ in ("cc", "punct") and token.head == head and token.i < head.i


_INSTRUCTION_LEAD = frozenset(
    ["please", "pls", "plz", "can", "could", "would", "will", "you", "u", "just", "do", "n't",
     "not", "never", "also", "and", "want", "need", "like", "'d", "i", "to"]
)  # fmt: skip


def _instruction_clause(
    tokens: Sequence[Token], subject: str, addressee: str | None = None
) -> tuple[str, bool]:
    """The command itself: "Can you please not use emoji?" -> ("use emoji", True). "You" is
    the ``addressee`` when it is a person, else the assistant ("its", "itself")."""
    yours, yourself = (f"{addressee}'s", addressee) if addressee else ("its", "itself")
    # Never at the start of the statement here: "The user" reads "the user".
    subject = "t" + subject[1:] if subject.startswith("The ") else subject
    words = [t for t in tokens if not t.is_punct]
    negated = any(t.dep_ == "neg" or t.lower_ == "never" for t in words)
    if speech.no_need_to(words):
        return _instruction_clause(words[3:], subject, addressee)[0], True  # "No need to be…"
    if speech.asks_for_an_amount(words):
        said = [t.lower_ for t in words if t.lower_ not in ("please", "pls", "plz")]
        if said[0] == "no":
            return " ".join(["use", *said[1:]]), True  # "No emojis" -> not to use emojis
        return " ".join(["use", *said]), False  # "Less jargon" -> to use less jargon
    wished = _what_you_should_do(words)
    if wished is not None:
        words = wished  # "I'd prefer if you were more direct" -> "be more direct"
    start = 0
    while start < len(words) and (
        words[start].lower_ in _INSTRUCTION_LEAD or words[start].tag_ == "MD"
    ):
        start += 1
    rest = [t for t in words[start:] if t.lower_ not in ("please", "pls", "plz")]
    out = []
    for position, token in enumerate(rest):
        lower = token.lower_
        if position == 0 and token.pos_ != "PROPN":
            # "Keep it short" -> "to keep it short"; "you were more direct" -> "to be…"
            out.append(token.lemma_.lower() if token.tag_ in ("VBD", "VBZ", "VBP") else lower)
        elif lower in ("your", "yours"):
            out.append(yours)
        elif lower == "yourself":
            out.append(yourself)
        elif lower == "you" and addressee:
            out.append(addressee)
        elif lower in ("me", "myself"):
            out.append(subject)
        elif lower == "my":
            out.append(f"{subject}'s")
        elif lower in ("n't", "not") and token.dep_ == "neg":
            continue
        else:
            out.append(token.text)
    return " ".join(out).replace(" 's", "'s"), negated


def _what_you_should_do(words: Sequence[Token]) -> list[Token] | None:
    """The clause the speaker wants of "you" when put as a condition or a time ("I'd prefer if
    you were more direct", "I like it when you give examples"): its verb and what follows."""
    for token in words:
        verb = token.head
        if (
            token.lower_ in ("you", "u")
            and token.dep_ == "nsubj"
            and verb.dep_ in ("advcl", "ccomp")
            and any(
                c.dep_ in ("mark", "advmod") and c.lower_ in ("if", "when") for c in verb.children
            )
        ):
            return [t for t in verb.subtree if t.i >= verb.i and not t.is_punct]
    return None


def _judges(token: Token) -> bool:
    """A word that passes judgement: "crucial", "important", "inspiring", "overrated"."""
    words = lexicon()
    lemma = token.lemma_.lower()
    return (
        lemma in words.evaluative_adjectives
        or lemma in words.value_words
        or (lemma in words.judgements)
    )


def _content_words(tokens: Sequence[Token]) -> int:
    words = lexicon()
    count = 0
    for token in tokens:
        lemma = token.lemma_.lower()
        if token.lower_ in speech.FIRST_PERSON or token.is_punct or lemma in words.small_talk:
            continue
        if token.pos_ == "PROPN" or token.ent_type_ in ("GPE", "LOC", "ORG", "FAC", "EVENT"):
            count += 2  # a name makes a statement specific: "I've been to Japan"
        elif (
            (token.pos_ == "NOUN" and lemma not in words.generic_nouns)
            # Light verbs include "love" and "like": in "I love pottery" the object carries it.
            or (token.pos_ == "VERB" and lemma not in words.light_verbs)
            or (token.pos_ == "ADJ" and lemma not in words.evaluative_adjectives)
            or token.pos_ == "NUM"
            or token.ent_type_ in ("DATE", "TIME")  # a number or a date makes it specific
        ):
            count += 1
    return count


_SUBJECTLESS_LEADS = frozenset(["just", "finally", "recently", "also", "still", "really"])


def _with_subject(tokens: Sequence[Token]) -> str:
    """A subjectless sentence with "I" put back: "Went camping" -> "I went camping", "Loving
    it" -> "I'm loving it", "Stoked about…" -> "I'm stoked about…", "Been busy" -> "I've been…"."""
    text = _lower_first("".join(t.text_with_ws for t in tokens).strip())
    if text and text[-1].isalnum():
        text += "."  # the parser reads a sentence better whole ("in Bath." is a place, not a tub)
    first = next((t for t in tokens if t.lower_ not in _SUBJECTLESS_LEADS), tokens[0])
    if first.lower_ == "been":
        return "I've " + text
    if first.lower_ in ("gon", "gonna"):
        return "I'm " + text
    acts_on_something = any(c.dep_ == "dobj" for c in first.children)
    if first.tag_ == "VBN" and acts_on_something:
        return "I " + text  # "Cooked some curry": a past action, not "I'm cooked"
    if first.tag_ in ("VBG", "VBN", "JJ") or speech.opens_with_a_feeling(tokens):
        return "I'm " + text
    return "I " + text


def _continuing(statement: str) -> str:
    """A statement continuing another after a semicolon: lower-case unless it starts a name."""
    first = statement.split(" ", 1)[0]
    if first[:1].isupper() and first[1:2].islower() and first.lower() not in _COMMON_STARTS:
        return statement
    return _lower_first(statement)


_COMMON_STARTS = frozenset(
    ["it", "it's", "this", "that", "the", "a", "an", "they", "there", "we", "and", "but", "so",
     "my", "our", "their", "its", "these", "those", "when", "if", "since", "after", "before"]
)  # fmt: skip


def _lower_unless_named(text: str, first: Token) -> str:
    """``text`` lower-cased at its start unless it starts with a name ("Jon is…", "You…" said
    to a named listener)."""
    if first.pos_ == "PROPN" or first.lower_ in speech.SECOND_PERSON:
        return text
    return _lower_first(text)


def _lower_first(text: str) -> str:
    if text[:2].isupper():
        return text  # an acronym
    return text[:1].lower() + text[1:]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with their character spans, by punctuation alone (no parser): the
    cheap split the verbatim-sentence baselines of the extraction benchmark use."""
    sentences: list[Sentence] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        before = text[start : boundary.start()].rsplit(None, 1)
        if (
            boundary.group(0).startswith(".")
            and before
            and before[-1].lower().rstrip(".") in _ABBREVIATIONS
        ):
            continue
        _append(sentences, text, start, boundary.end())
        start = boundary.end()
    _append(sentences, text, start, len(text))
    return sentences


def _append(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        offset = start + (len(chunk) - len(chunk.lstrip()))
        sentences.append(Sentence(start=offset, end=offset + len(stripped), text=stripped))
