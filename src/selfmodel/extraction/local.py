"""The local extractor: offline, deterministic rules from first-person speech to beliefs.

Per user observation: split into sentences; drop questions, greetings and small talk; take out
hedge words (remembering how hedged the sentence was); resolve relative dates against the
observation's ``occurred_at``; rewrite the first person as the named subject; assign a kind from
cue lists; and, for negations and changes, name the affirmative claim being contradicted.

It runs on every message, so it is plain regular expressions and string work: no model, no
network, no per-call setup (dateparser is only consulted, through a cache, for day words).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from selfmodel.domain import BeliefKind, BeliefOrigin, Role
from selfmodel.extraction import clauses, grammar, rules
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest, Extractor
from selfmodel.extraction.dates import find_relative_dates, rewrite_relative_dates

# Sentence boundaries: terminal punctuation followed by whitespace or the end, or a line break.
# Emoji end a thought as surely as a full stop does ("Inspiring 💪 I emailed ...").
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]]*(?=\s|$)|\n+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+")
_ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "approx", "no", "prof"]
)
# Shorter fragments are never beliefs ("Me too.", "Same!").
MIN_SENTENCE_CHARS = 8
# Trailing emoticons, emoji and symbols are stripped from statements (kept in the quote).
_TRAILING_NOISE = re.compile(r"[\s\W_]+$", re.UNICODE)
_EMOTICONS = re.compile(r"(?:[:;=]-?[()DPp/\\|]|<3|\bx+d\b)", re.IGNORECASE)
_NON_TEXT = re.compile(r"[^\w\s.,;:!?'\"()&%$€£/+-]", re.UNICODE)
_DASHES = re.compile(r"\s*[–—]\s*|\s+-\s+")
# Chat spellings written out, so statements read as sentences and verbs agree ("is going to").
_CHAT_SPELLINGS = (
    (re.compile(r"\bgonna\b", re.IGNORECASE), "going to"),
    (re.compile(r"\bwanna\b", re.IGNORECASE), "want to"),
    (re.compile(r"\bgotta\b", re.IGNORECASE), "have to"),
    (re.compile(r"(?:\B'cause|\bcuz|\bcos)\b", re.IGNORECASE), "because"),
    (re.compile(r"\""), ""),
)
_SPACES = re.compile(r"\s{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;:.!?])")
_FIRST_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_COPULA = re.compile(
    r"\b(?:is|are|was|were|has|have|can|will|would|makes|helps|gives|means|takes|brings|need|"
    r"needs|gets|keeps|lets|feels|sounds|seems|looks|isn't|wasn't|hasn't|doesn't|won't|can't|"
    r"made|helped|gave|brought|taught|kept|allows|allowed|reminds|reminded)\b|'s\b"
)
# Pronouns that, right before a verb, are its subject ("where I'm accepted ... has meant").
_SUBJECT_BEFORE_VERB = frozenset(
    ["i", "we", "you", "he", "she", "they", "it", "that", "who", "which", "there"]
)
_FIRST_PERSON_SUBJECT = re.compile(r"\b(?:i|we)\b(?!')")
_PRESENT_PERFECT_EVENT = re.compile(
    r"\b(?:i've|i have|we've|we have) (?:\w+ )?(?:been to|visited|tried|seen|met|finished|"
    r"completed|won|started|learned|learnt|traveled|travelled|ran|run|climbed|published)\b"
)
# Cues that an ambiguous date ("on Friday", "in May") lies ahead; the present progressive
# ("I'm flying to Lisbon on Friday") is the usual English way to state an arrangement.
_PLAN_WORDS = re.compile(
    r"\b(?:will|'ll|going to|gonna|planning|plan to|about to|next|tomorrow)\b|"
    r"\b(?:i'm|i am|we're|we are) \w+ing\b"
)


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    text: str


class LocalExtractor(Extractor):
    """Rule-based extraction of beliefs about the speaker from what they said; no LLM."""

    name = "local"
    version = "local-2"

    def extract(self, requests: Sequence[ExtractionRequest]) -> list[CandidateBelief]:
        candidates: list[CandidateBelief] = []
        for request in requests:
            if request.observation.role is not Role.USER:
                continue  # only the user's own words are evidence about the user
            candidates.extend(self._extract_one(request))
        return candidates

    def _extract_one(self, request: ExtractionRequest) -> Iterator[CandidateBelief]:
        observation = request.observation
        # Curly apostrophes become straight ones (same length, so spans stay valid).
        content = observation.content.replace("\u2019", "'").replace("\u2018", "'")
        listener = clauses.addressee(content, request.subject)
        for piece in _pieces(content, listener):
            candidate = self._read_sentence(
                piece, request.subject, observation.occurred_at, listener
            )
            if candidate is None:
                continue
            statement, kind, strength, origin, contradicts, valid_from = candidate
            yield CandidateBelief(
                statement=statement,
                kind=kind,
                observation_id=observation.id,
                strength=strength,
                origin=origin,
                contradicts=contradicts,
                span_start=piece.start,
                span_end=piece.end,
                quote=observation.content[piece.start : piece.end],
                valid_from=valid_from,
            )

    def _read_sentence(
        self, sentence: _Sentence, subject: str, occurred_at: datetime, listener: str | None
    ) -> tuple[str, BeliefKind, float, BeliefOrigin, str | None, datetime | None] | None:
        text = _clean(rules.strip_small_talk(sentence.text, listener))
        hedging = rules.measure_hedging(text.lower(), text)
        text = rules.strip_small_talk(_clean(hedging.text), listener)
        if rules.addresses_listener(text.lower()):
            if listener is None:
                return None  # "you" is someone we cannot name: the clause is not about the speaker
            text = grammar.address_by_name(text, listener)
        lowered = text.lower()
        if (
            len(text) < MIN_SENTENCE_CHARS
            or rules.content_word_count(lowered) < rules.MIN_CONTENT_WORDS
        ):
            return None
        if rules.is_exhortation_or_imperative(lowered):
            return None
        subjectless = _describes_speaker_without_subject(lowered)
        if not subjectless and not rules.mentions_speaker(lowered):
            return None
        past = (subjectless and _starts_with_past(lowered)) or _first_person_past(lowered)
        kind = rules.classify(lowered, past=past)

        mentions = find_relative_dates(
            text, occurred_at, prefer_future=_PLAN_WORDS.search(lowered) is not None
        )
        dated = rewrite_relative_dates(text, mentions)
        if any(m.period_start > occurred_at.date() for m in mentions) and kind not in (
            BeliefKind.GOAL,
            BeliefKind.HABIT,
        ):
            kind = BeliefKind.PLAN  # a statement about a date ahead is an arrangement
        valid_from = None
        past_mentions = [m for m in mentions if m.period_start <= occurred_at.date()]
        if past_mentions:
            valid_from = datetime.combine(
                past_mentions[0].period_start, time(), tzinfo=occurred_at.tzinfo
            )

        group = grammar.group_phrase(subject, text)
        if subjectless:
            dated = _add_subject(dated, subject)
        statement = _finish(grammar.to_third_person(dated, subject, group=group))
        contradicts = _contradicted_claim(lowered.rstrip(".!… "), subject, group)
        origin = (
            BeliefOrigin.STATED
            if hedging.strength == 1.0
            and kind in rules.STATED_KINDS
            and rules.is_self_description(lowered)
            and not past
            else BeliefOrigin.INFERRED
        )
        if not statement:
            return None
        return statement, kind, hedging.strength, origin, contradicts, valid_from


def _pieces(content: str, listener: str | None) -> Iterator[_Sentence]:
    """The parts of ``content`` read as one statement each: statements' clauses, no questions.

    A sentence that speaks to the listener is read clause by clause, so "you" in one clause
    does not hide the speaker's facts in another; otherwise only coordinated first-person
    clauses ("I X and I Y") are read apart.
    """
    for sentence in split_sentences(content):
        if sentence.text.rstrip().endswith("?"):
            continue
        spoken_to = rules.addresses_listener(
            rules.strip_small_talk(sentence.text, listener).lower()
        )
        spans = (clauses.all_clauses if spoken_to else clauses.coordinated_clauses)(sentence.text)
        for start, end in spans:
            yield _Sentence(sentence.start + start, sentence.start + end, sentence.text[start:end])


def split_sentences(text: str) -> list[_Sentence]:
    """Sentences of ``text`` with their character spans (abbreviations do not end a sentence)."""
    sentences: list[_Sentence] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if boundary.group(0).startswith(".") and _ends_with_abbreviation(
            text[start : boundary.start()]
        ):
            continue
        _append_sentence(sentences, text, start, boundary.end())
        start = boundary.end()
    _append_sentence(sentences, text, start, len(text))
    return sentences


def _append_sentence(sentences: list[_Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return
    offset = start + (len(chunk) - len(chunk.lstrip()))
    sentences.append(_Sentence(start=offset, end=offset + len(stripped), text=stripped))


def _ends_with_abbreviation(before: str) -> bool:
    words = before.rsplit(None, 1)
    return bool(words) and words[-1].lower().rstrip(".") in _ABBREVIATIONS


def _clean(text: str) -> str:
    text = _DASHES.sub(" - ", text)
    for pattern, replacement in _CHAT_SPELLINGS:
        text = pattern.sub(replacement, text)
    text = _EMOTICONS.sub(" ", text)
    text = _NON_TEXT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _finish(statement: str) -> str:
    statement = _TRAILING_NOISE.sub("", statement)
    statement = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", statement)).strip(" ,;:-")
    return statement[:1].upper() + statement[1:]


def _first_word(lowered: str) -> str:
    match = _FIRST_WORD.match(lowered)
    return match.group(0) if match else ""


def _describes_speaker_without_subject(lowered: str) -> bool:
    """ "Went camping with the kids", "Just got back from a race": the speaker, unnamed."""
    first = _first_word(lowered)
    if first in rules.SUBJECTLESS_LEADS:
        second = _first_word(lowered[len(first) :].lstrip())
        return grammar.is_past_tense(second) or second.endswith("ing")
    if first in rules.STATE_ADJECTIVES and " " in lowered:
        return True
    if first.endswith("ing") and len(first) >= 5:
        # "Taking care of ourselves is vital": a gerund that is the subject of its clause.
        # The verb may come after a comma ("Finding a place where I'm accepted, loved and
        # supported has meant a lot"): any verb whose subject is not a pronoun of its own.
        clause = re.split(r"[;:]| - ", lowered, maxsplit=1)[0]
        return _COPULA.search(clause.split(",", 1)[0]) is None and not any(
            _verb_without_own_subject(clause, verb) for verb in _COPULA.finditer(clause)
        )
    if first in rules.SUBJECTLESS_PRESENT or first == "been":
        return True
    return grammar.is_past_tense(first) and first not in ("been", "done", "seen", "gone")


def _verb_without_own_subject(clause: str, verb: re.Match[str]) -> bool:
    """``verb`` is finite and not preceded by a pronoun subject (nor "to") of its own."""
    before = clause[: verb.start()].split()
    return (
        not verb.group(0).startswith("'")
        and bool(before)
        and before[-1] not in _SUBJECT_BEFORE_VERB
        and before[-1] != "to"
    )


def _starts_with_past(lowered: str) -> bool:
    first = _first_word(lowered)
    if first in rules.SUBJECTLESS_LEADS:
        first = _first_word(lowered[len(first) :].lstrip())
    return grammar.is_past_tense(first) and first not in rules.STATE_ADJECTIVES


def _first_person_past(lowered: str) -> bool:
    """The speaker's own clause is in the past tense ("I went", "we finally got")."""
    match = _FIRST_PERSON_SUBJECT.search(lowered)
    if match is not None:
        following = lowered[match.end() :].split()
        verb = next((word for word in following if word not in grammar.ADVERBS), "")
        if verb != "have" and (
            (grammar.is_past_tense(verb) and verb != "had") or verb in ("was", "were")
        ):
            return True
    # Present perfect of an event ("I've been to Japan", "we have visited Rome") is an experience.
    return _PRESENT_PERFECT_EVENT.search(lowered) is not None


def _add_subject(text: str, subject: str) -> str:
    """Give a subjectless sentence its subject: "Went camping" -> "<subject> went camping"."""
    head, _, rest = text.partition(" ")
    lead = ""
    if head.lower() in rules.SUBJECTLESS_LEADS and rest:  # "Just got back", "Still following"
        lead = head.lower() + " "
        head, _, rest = rest.partition(" ")
    lower = head.lower()
    if lower in rules.STATE_ADJECTIVES or lower.endswith("ing"):
        return f"{subject} is {lead}{lower} {rest}"
    if lower == "been":
        return f"{subject} has {lead}been {rest}"
    if lower in rules.SUBJECTLESS_PRESENT:
        return f"{subject} {lead}{grammar.third_person_singular(lower)} {rest}"
    return f"{subject} {lead}{lower} {rest}"


def _contradicted_claim(lowered: str, subject: str, group: str) -> str | None:
    """The affirmative claim a negation or change denies, about the subject, or None."""
    for pattern in rules.CONTRADICTION_PATTERNS:
        match = pattern.search(lowered)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("be"):
            affirmative = f"I am {groups['be']}"
        elif groups.get("gerund"):
            affirmative = f"I {grammar.verb_from_gerund(groups['gerund'])}{groups['rest']}"
        else:
            affirmative = f"I {groups['verb']}{groups['rest']}"
        affirmative = re.sub(r"\s+(?:any ?more|these days)$", "", affirmative.strip())
        return _finish(grammar.to_third_person(affirmative, subject, group=group))
    return None
