"""What a sentence does: asks, chats, instructs the assistant, or says something about someone.

Only some sentences can become beliefs. Greetings, thanks, backchannels ("haha yeah"), pep talk
("Keep going!") and questions to the other party say nothing about the speaker; instructions to
the assistant ("please keep answers short", "can you stop using emojis?") say how the speaker
wants to be answered; the rest is about the speaker, or about someone or something else.

Everything here reads the spaCy parse (parts of speech, dependencies, entities) plus the word
classes of ``lexicon``; nothing matches raw strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from lemminflect import getInflection, getLemma
from spacy.tokens import Span, Token

from selfmodel.extraction.lexicon import lexicon

FIRST_SINGULAR = frozenset(["i", "me", "my", "mine", "myself"])
FIRST_PLURAL = frozenset(["we", "us", "our", "ours", "ourselves"])
FIRST_PERSON = FIRST_SINGULAR | FIRST_PLURAL
SECOND_PERSON = frozenset(["you", "your", "yours", "yourself", "yourselves", "u", "ya"])
SUBJECTS = frozenset(["nsubj", "nsubjpass", "csubj", "expl"])
# Discourse markers that open a sentence without adding to it ("So I went…", "Well, I think…").
_OPENERS = frozenset(
    ["so", "well", "also", "anyway", "anyways", "btw", "plus", "and", "but", "honestly",
     "actually", "basically", "just", "still", "now", "then", "lol", "haha", "oh", "ok", "okay"]
)  # fmt: skip
# Verbs of guessing and imagining: "I bet …", "I can picture …" speak of what is guessed.
_CONJECTURE_VERBS = frozenset(["bet", "guess", "imagine", "picture", "suppose", "wonder"])
# Verbs that, in the imperative, address the assistant's way of answering.
_ANSWERING_VERBS = frozenset(
    ["explain", "answer", "reply", "respond", "summarize", "summarise", "format", "apologize",
     "apologise", "translate"]
)  # fmt: skip
# Talking is about answering when it says how: "Talk to me like a friend", "Speak in French" (not
# "Talk to you soon").
_TALKING_VERBS = frozenset(["talk", "speak"])
# "Less jargon please", "No emojis", "More examples": what to put in answers, said without a verb.
AMOUNT_WORDS = frozenset(["less", "more", "fewer", "no"])


class Act(StrEnum):
    QUESTION = "question"
    SMALL_TALK = "small_talk"
    INSTRUCTION = "instruction"  # how the speaker wants the assistant to answer
    ABOUT_SPEAKER = "about_speaker"
    ABOUT_OTHERS = "about_others"  # the listener, third parties, the world


@dataclass(frozen=True)
class SentenceReading:
    """A sentence's act and its words once lead-in small talk and vocatives are gone."""

    act: Act
    tokens: tuple[Token, ...]
    subjectless: bool = False  # about the speaker without saying "I" ("Went camping!")


def read_sentence(
    sentence: Span, names: frozenset[str] = frozenset(), owned: frozenset[str] = frozenset()
) -> SentenceReading:
    """What ``sentence`` does. ``names`` are lower-cased names of people in the conversation;
    ``owned`` the lemmas of things the speaker just called theirs ("my store")."""
    words = tuple(t for t in sentence if not t.is_space)
    said = tuple(t for t in words if not t.is_punct)
    if (no_need_to(said) and _about_answering(said)) or asks_for_an_amount(said):
        # "No need to be so formal", "No emojis please": "no" is the point, not a filler.
        return SentenceReading(Act.INSTRUCTION, said)
    tokens = _without_vocatives(_without_lead_in(_without_catching_up(words)), names)
    if not tokens or all(_is_filler(t) for t in tokens):
        return SentenceReading(Act.SMALL_TALK, tokens)
    root = sentence.root
    if root.lemma_.lower() in lexicon().small_talk and not _has_first_person_clause(tokens):
        return SentenceReading(Act.SMALL_TALK, tokens)  # "Thanks for asking!", "Congrats on…"
    if _promises_news(root):
        return SentenceReading(Act.SMALL_TALK, tokens)  # "I'll keep you posted!"
    if _names_themselves(root):
        return SentenceReading(Act.ABOUT_SPEAKER, tokens)  # "Call me Sam": their name
    if is_instruction(tokens):
        return SentenceReading(Act.INSTRUCTION, tokens)
    if sentence.text.rstrip().endswith("?") or _is_inverted_question(tokens):
        return SentenceReading(Act.QUESTION, tokens)
    if is_imperative(tokens) or _is_exhortation(tokens):
        return SentenceReading(Act.SMALL_TALK, tokens)  # "Keep going!", "Let's do this"
    subject = _subject_of(root)
    if _conjectures_about_others(root, subject):
        return SentenceReading(Act.ABOUT_OTHERS, tokens)  # "I bet the kids love it"
    if (
        subject is not None
        and subject.lower_ in SECOND_PERSON
        and not _has_first_person_clause(tokens)
    ):
        return SentenceReading(Act.ABOUT_OTHERS, tokens)  # "You'd be a great counselor"
    if owned_subject(subject, owned) is not None:
        return SentenceReading(Act.ABOUT_SPEAKER, tokens)  # "my store" … "The store's booming"
    if _starts_like_a_verb(tokens) and not _has_first_person_clause(tokens):
        # "Loving my new job!": said of the speaker without "I", whatever "my" follows.
        return SentenceReading(Act.ABOUT_SPEAKER, tokens, subjectless=True)
    if any(t.lower_ in FIRST_PERSON and not _is_lets(t) for t in tokens) or is_own_home(subject):
        # "Lost my job yesterday, so I'm gonna…": the first clause still wants its "I".
        return SentenceReading(
            Act.ABOUT_SPEAKER,
            tokens,
            subjectless=_opens_with_a_past(tokens) or opens_with_a_feeling(tokens),
        )
    if _starts_like_a_verb(tokens):
        # "Went hiking yesterday, the mountains were covered in snow": the first clause has no
        # subject of its own, whatever the rest of the sentence has.
        return SentenceReading(Act.ABOUT_SPEAKER, tokens, subjectless=True)
    return SentenceReading(Act.ABOUT_OTHERS, tokens)


# Talk about the conversation itself: "since we last chatted", "since our last chat", "we haven't
# talked in ages", and what such a clause introduces ("A lot's happened since…").
_TALKING = frozenset(["talk", "chat", "speak", "catch"])
_HAPPENINGS = frozenset(["lot", "much", "thing", "stuff", "lots"])


def _without_catching_up(words: tuple[Token, ...]) -> tuple[Token, ...]:
    """``words`` without the clauses that are about the conversation, not the speaker: "A lot's
    happened since we last chatted - I joined a choir" keeps "I joined a choir"."""
    dropped: set[int] = set()
    for token in words:
        lemma = token.lemma_.lower()
        if lemma in _TALKING and token.pos_ == "VERB" and _about_catching_up(token):
            dropped.update(t.i for t in token.subtree)  # "since we last talked"
        elif (
            lemma in _TALKING
            and token.pos_ == "NOUN"
            and token.head.dep_ == "prep"
            and any(c.lower_ in ("our", "your", "my") for c in token.children)
        ):
            # "since our last chat" (an apposition after it says something: it stays)
            dropped.update((token.head.i, token.i))
            dropped.update(
                t.i
                for c in token.children
                if c.dep_ in ("poss", "amod", "det", "compound")
                for t in c.subtree
            )
    if not dropped:
        return words
    for token in words:
        if token.lemma_.lower() == "happen" and token.i not in dropped:
            subject = _subject_of(token)
            if subject is not None and subject.lemma_.lower() in _HAPPENINGS:
                dropped.update(t.i for t in token.subtree if t.dep_ != "conj" or t == token)
                dropped.update(
                    t.i for t in token.subtree if t.head == token and t.dep_ in ("punct", "cc")
                )
    kept = tuple(t for t in words if t.i not in dropped)
    while kept and (kept[0].is_punct or kept[0].dep_ == "cc"):
        kept = kept[1:]
    return kept


def _about_catching_up(verb: Token) -> bool:
    """ "since we last spoke", "we haven't talked in ages": when, not what, was said."""
    if any(c.dep_ == "prep" and c.lower_ == "about" for c in verb.children):
        return False  # "We talked about moving to Lisbon"
    children = list(verb.children)
    if any((c.dep_ == "mark" and c.lower_ == "since") or c.lower_ == "last" for c in children):
        return True
    between_us = any(t.lower_ in ("we", "you") for t in verb.lefts)
    lapse = any(
        c.dep_ == "neg" or any(g.lower_ in ("while", "ages", "forever") for g in c.subtree)
        for c in children
    )
    return between_us and lapse  # "We haven't talked in ages" (not "I didn't talk to my sister")


def _names_themselves(root: Token) -> bool:
    return (
        root.lemma_.lower() == "call"
        and any(c.lower_ == "me" for c in root.children)
        and any(c.pos_ == "PROPN" for c in root.children)
    )


def is_instruction(tokens: tuple[Token, ...]) -> bool:
    """An instruction or request to the assistant about how to answer the speaker."""
    if not tokens:
        return False
    addressed = (
        is_imperative(tokens)
        or _is_request(tokens)
        or _wants_you_to(tokens)
        or no_need_to(tokens)
        or asks_for_an_amount(tokens)
    )
    return addressed and (_about_answering(tokens) or asks_for_an_amount(tokens))


def no_need_to(tokens: Sequence[Token]) -> bool:
    """ "No need to be so formal": an instruction not to."""
    lowers = [t.lower_ for t in tokens if not t.is_punct][:3]
    return lowers == ["no", "need", "to"]


def asks_for_an_amount(tokens: Sequence[Token]) -> bool:
    """ "Less jargon please", "No emojis", "More examples!": a verbless request about answers."""
    words = [t for t in tokens if not t.is_punct and t.lower_ not in ("please", "pls", "plz")]
    return (
        1 < len(words) <= 4
        and words[0].lower_ in AMOUNT_WORDS
        and words[1].lemma_.lower() in lexicon().communication_nouns
        # (the tagger may call the noun itself a verb: "No emojis")
        and not any(t.pos_ in ("VERB", "AUX") for t in words[2:])
    )


def _is_filler(token: Token) -> bool:
    return (
        token.is_punct
        or token.pos_ in ("INTJ", "SYM", "X")
        or token.lower_ in lexicon().small_talk
        or not any(c.isalnum() for c in token.text)
    )


def _without_lead_in(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    start = 0
    while start < len(tokens):
        token = tokens[start]
        lower = token.lower_
        thanked = lower == "you" and start > 0 and tokens[start - 1].lemma_.lower() == "thank"
        if _is_filler(token) or lower in _OPENERS or token.dep_ == "intj" or thanked:
            start += 1
        else:
            break
    return tokens[start:]


def _without_vocatives(tokens: tuple[Token, ...], names: frozenset[str]) -> tuple[Token, ...]:
    """Drop a name the speaker addresses the listener by ("Mel, I…", "…, Jon!")."""

    def vocative(token: Token) -> bool:
        return token.pos_ == "PROPN" and (
            token.lower_ in names or token.ent_type_ == "PERSON" or token.dep_ in ("npadvmod",)
        )

    start, end = 0, len(tokens)
    while start < end and (vocative(tokens[start]) or tokens[start].is_punct):
        if vocative(tokens[start]) and start + 1 < end and not tokens[start + 1].is_punct:
            break  # "Jon went…": a subject, not a vocative
        start += 1
    while end > start and tokens[end - 1].is_punct:
        end -= 1
    if end - start >= 2 and vocative(tokens[end - 1]) and tokens[end - 2].text == ",":
        end -= 2
    return tokens[start:end]


def _subject_of(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ in SUBJECTS:
            return child
    if verb.dep_ in ("conj", "xcomp", "advcl") and verb.head.i != verb.i:
        return _subject_of(verb.head) if verb.dep_ == "conj" else None
    return None


def is_own_home(token: Token | None) -> bool:
    """ "Home is now Edinburgh": the speaker's home, said without "my"."""
    return (
        token is not None
        and token.lemma_.lower() == "home"
        and token.dep_ in SUBJECTS
        and not any(c.dep_ in ("poss", "det") for c in token.children)
    )


def _promises_news(root: Token) -> bool:
    """ "I'll keep you posted", "will keep ya updated", "I'll let you know": a promise to the
    listener about the conversation, nothing about the speaker."""
    lemma = root.lemma_.lower()
    if lemma not in ("keep", "let"):
        return False
    told = {"keep": ("posted", "updated", "informed"), "let": ("know",)}[lemma]
    listener = [t for t in root.subtree if t.lower_ in SECOND_PERSON]
    return any(t.head == root or t.head.lower_ in told for t in listener) and any(
        t.lower_ in told for t in root.subtree
    )


def _is_lets(token: Token) -> bool:
    """ "us" in "let's" / "let us": an exhortation, not a statement about the speaker."""
    return token.lower_ in ("us", "'s") and token.head.lemma_.lower() == "let"


def _is_exhortation(tokens: tuple[Token, ...]) -> bool:
    return tokens[0].lemma_.lower() == "let"


def is_imperative(tokens: tuple[Token, ...]) -> bool:
    """A command: a bare verb with no subject of its own ("Keep it short", "Don't use emoji")."""
    words = [t for t in tokens if not t.is_punct]
    while words and words[0].lower_ in ("please", "just", "also", "and", "now", "pls", "plz"):
        words = words[1:]
    if not words:
        return False
    first = words[0]
    if first.lower_ in ("gon", "wan", "gonna", "wanna", "gotta"):
        return False  # "Gonna start a class": the speaker's plan, said without "I'm"
    if first.lower_ in ("do", "don't") and len(words) > 1:
        rest = [w for w in words[1:] if w.lower_ not in ("n't", "not")]
        first = rest[0] if rest else first
    if is_past_form(first.lower_):
        return False  # "Lost my job yesterday": the tagger's base form is a past, said of oneself
    if first.lemma_.lower() in _ANSWERING_VERBS and first.dep_ == "ROOT" and first.i == 0:
        return _subject_of(first) is None  # "Answer in Spanish": the tagger may call it a noun
    return first.tag_ == "VB" and _subject_of(first) is None and first.dep_ in ("ROOT", "conj")


def _is_request(tokens: tuple[Token, ...]) -> bool:
    """ "Can you…", "Could you please…", "Would you…": a request put as a question."""
    words = [t for t in tokens if not t.is_punct]
    return (
        len(words) >= 3
        and words[0].lower_ in lexicon().request_markers
        and words[1].lower_ in ("you", "u")
    )


def _wants_you_to(tokens: tuple[Token, ...]) -> bool:
    """ "I want you to…", "I'd like you to…", "I need you to…", "I prefer you…"."""
    for token in tokens:
        if token.lower_ in ("you", "u") and token.dep_ in ("nsubj", "dobj", "ccomp"):
            head = token.head
            wanting = head if head.lemma_.lower() in ("want", "like", "need", "prefer") else None
            if wanting is None and head.head.lemma_.lower() in ("want", "like", "need", "prefer"):
                wanting = head.head
            if wanting is not None and any(
                c.lower_ in FIRST_SINGULAR for c in wanting.children if c.dep_ in SUBJECTS
            ):
                return True
    return False


def _about_answering(tokens: tuple[Token, ...]) -> bool:
    words = lexicon()
    for token in tokens:
        lemma = token.lemma_.lower()
        if token.pos_ in ("NOUN", "PROPN") and lemma in words.communication_nouns:
            return True
        if lemma in words.communication_adjectives and (
            token.head.lemma_.lower() in words.communication_verbs | words.communication_nouns
        ):
            return True  # "keep it concise", "short answers" (the tagger may call it a verb)
        if token.pos_ == "VERB" and lemma in _ANSWERING_VERBS:
            return True
        if lemma in _TALKING_VERBS and _says_how(token):
            return True
    text = " ".join(t.lower_ for t in tokens)
    return "from now on" in text  # "Could you use metric units from now on?"


def _says_how(verb: Token) -> bool:
    """ "Talk to me like a friend", "speak in French", "talk more slowly"."""
    return any(
        (c.dep_ == "prep" and c.lower_ in ("like", "in"))
        or (c.dep_ == "prep" and c.lower_ == "to" and any(g.lower_ == "me" for g in c.children))
        or (c.dep_ == "advmod" and c.lower_ not in ("soon", "later", "again"))
        for c in verb.children
    )


def _is_inverted_question(tokens: tuple[Token, ...]) -> bool:
    """ "Did you go…", "Have you ever…", "What's up" — a question without its mark."""
    words = [t for t in tokens if not t.is_punct]
    if len(words) < 2:
        return False
    first, second = words[0], words[1]
    if first.tag_ in ("WP", "WRB", "WDT") and first.dep_ != "mark":
        return True
    return first.pos_ == "AUX" and first.i < first.head.i and second.lower_ in SECOND_PERSON


def _conjectures_about_others(root: Token, subject: Token | None) -> bool:
    """ "I bet they bring lots of joy", "I can picture waking up to nature": the speaker guesses
    or imagines something of someone else (often of what the listener just shared); the
    sentence holds nothing of the speaker unless its complement is about them again."""
    if subject is None or subject.lower_ != "i" or root.lemma_.lower() not in _CONJECTURE_VERBS:
        return False
    complements = [c for c in root.children if c.dep_ in ("ccomp", "xcomp", "dobj")]
    return bool(complements) and not any(
        t.lower_ in FIRST_PERSON for c in complements for t in c.subtree
    )


def owned_subject(subject: Token | None, owned: frozenset[str]) -> Token | None:
    """The "the" of a subject the speaker just called theirs: after "my store", "The store's
    doing great!" is about their store. None for any other subject."""
    if subject is None or subject.lemma_.lower() not in owned:
        return None
    determiners = [c for c in subject.children if c.dep_ in ("det", "poss")]
    if len(determiners) == 1 and determiners[0].lower_ == "the":
        return determiners[0]
    return None


def _has_first_person_clause(tokens: tuple[Token, ...]) -> bool:
    return any(t.lower_ in FIRST_SINGULAR and t.dep_ in SUBJECTS for t in tokens)


def _starts_like_a_verb(tokens: tuple[Token, ...]) -> bool:
    """A subjectless chat sentence about the speaker: "Went camping", "Just got back from…",
    "Loving the new job", "Been painting a lot". The base form ("Keep it") is a command."""
    words = [t for t in tokens if not t.is_punct]
    while words and words[0].lower_ in ("just", "finally", "recently", "also", "still", "really"):
        words = words[1:]
    if not words:
        return False
    first = words[0]
    if first.lower_ in ("gon", "gonna", "wan", "wanna", "been") or is_gotta(first):
        # "Been doing some promotion": "I've been …"; "Been a busy week": "it has been …".
        return not _dropped_it(first)
    if _subject_of(first) is not None:
        return False
    if first.tag_ in ("VBD", "VBN", "VBG"):
        # "Hanging with loved ones is amazing": a gerund that is the subject is not the speaker.
        return first.dep_ not in ("amod", "compound", "aux", "auxpass", "csubj", "nsubj")
    return first.pos_ != "VERB" and is_past_form(first.lower_)  # the tagger read "Went" as a name


# What "it" is when a chat sentence drops it: "Been a wild ride", "Gonna be a big change".
_SITUATIONS = frozenset(
    ["change", "ride", "journey", "blast", "while", "rollercoaster", "adventure", "challenge",
     "struggle", "ages", "time", "trip", "experience", "day", "week", "weekend", "month", "year",
     "night", "morning", "evening"]
)  # fmt: skip


def is_gotta(token: Token) -> bool:
    """ "gotta" comes as "got" + "ta": "have to"."""
    return token.lower_ == "got" and token.i + 1 < len(token.doc) and token.nbor(1).lower_ == "ta"


def _dropped_it(first: Token) -> bool:
    """ "Been a busy week", "Gonna be a big change": the subject left out is "it" — a stretch of
    time or a situation is what "has been" or "is going to be" — not the speaker."""
    copula = first if first.lemma_.lower() == "be" else None
    for child in first.children:
        if child.dep_ == "xcomp" and child.lemma_.lower() == "be":
            copula = child
    if copula is None:
        return False
    return any(
        c.dep_ == "attr" and (c.ent_type_ in ("DATE", "TIME") or c.lemma_.lower() in _SITUATIONS)
        for c in copula.children
    )


# Intensifiers before a feeling said without "I'm" ("So glad I could help!").
_INTENSIFIERS = frozenset(["so", "really", "very", "super", "just", "soo", "sooo"])


def opens_with_a_feeling(tokens: Sequence[Token]) -> bool:
    """ "Glad I could help!", "So happy my journey inspires others": a feeling with its "I'm"
    dropped (the tagger often reads a leading "Glad" as a name)."""
    words = [t for t in tokens if not t.is_punct]
    while words and words[0].lower_ in _INTENSIFIERS:
        words = words[1:]
    return bool(words) and (
        words[0].lower_ in lexicon().emotion_adjectives or words[0].lower_ in ("glad", "sorry")
    )


def _opens_with_a_past(tokens: tuple[Token, ...]) -> bool:
    """The sentence's main verb comes first, in the past, with no subject ("Lost my job…")."""
    first = next((t for t in tokens if not t.is_punct), None)
    return (
        first is not None
        and first.dep_ in ("ROOT", "advcl", "ccomp")  # "Lost my job, so I'm…" may hang "lost" low
        and _subject_of(first) is None
        # A participle opens a modifier of the subject to come ("Stuck in traffic, I missed…").
        and (first.tag_ == "VBD" or (first.tag_ == "VB" and is_past_form(first.lower_)))
    )


@lru_cache(maxsize=4096)  # lemminflect infers unknown words by rules each time it is asked
def is_past_form(word: str) -> bool:
    """True for a past tense or participle the tagger missed (it reads "Went" as a name)."""
    lemmas = getLemma(word, upos="VERB")
    return any(
        word in (getInflection(lemma, tag="VBD") or ()) + (getInflection(lemma, tag="VBN") or ())
        for lemma in lemmas
        if lemma != word
    )
