"""The local extractor's cue lists: what is small talk, what hedges, which kind a statement is.

All matching is on a lower-cased sentence with straight apostrophes, still in the first person
(the cues are easier to write as the speaker says them: "i love", "my husband").
Thresholds and strengths are named here so the extraction benchmark can justify them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selfmodel.domain import BeliefKind

# --- Strength of hedged statements -----------------------------------------------------------
#: "maybe", "might", "not sure": the speaker is undecided; evidence counts half.
STRONG_HEDGE_STRENGTH = 0.5
#: "I think", "probably", "kind of": mostly meant, softened.
MILD_HEDGE_STRENGTH = 0.7

_STRONG_HEDGES = re.compile(
    r"\b(?:maybe|perhaps|possibly|might|not sure|not certain|i wonder if)\b"
)
# "I think" and "I believe" only hedge when they frame the speaker's own clause (_HEDGE_FRAME):
# "I think remote work is overrated" is a plainly held opinion.
_MILD_HEDGES = re.compile(
    r"\b(?:i guess|probably|kind of|kinda|sort of|sorta|i suppose|i feel like|likely|i'd say)\b"
)
# Hedge words removed from the statement itself: the strength carries the doubt, and a clean
# statement merges with a later plain one ("Maybe I'll try pottery" then "I tried pottery").
_REMOVABLE_HEDGES = re.compile(
    r"\b(?:maybe|perhaps|possibly|probably|kind of|kinda|sort of|sorta)\b,?\s*"
)
# "I think I'll ..." is a hedge on the speaker's own clause; "I think pottery is ..." an opinion.
_HEDGE_FRAME = re.compile(
    r"\b(?:i think|i guess|i suppose|i feel like|i believe)(?: that)?,?\s+(?=(?:i|i'm|i've|i'll|"
    r"i'd|my|we|we're|we'll|we've)\b)"
)

# --- Small talk --------------------------------------------------------------------------------
# Leading discourse markers and interjections carry nothing about the speaker ("Yeah, I ...").
_LEADING_MARKERS = re.compile(
    r"^(?:(?:oh|wow|yeah|yes|yep|yup|well|so|haha+|hah|lol|hey|hi|hello|aw+|ah+|omg|ok|okay|um+|"
    r"uh+|hmm+|honestly|actually|anyway|anyways|by the way|btw|also|plus|and|but|totally|"
    r"absolutely|definitely|sure|right|true|oh man|man|gosh|ugh|phew|whoa|woah|cool|nice|awesome|"
    r"great|thanks|thank you|you know what|guess what|fun fact|funny enough|to be honest|tbh)"
    r"\b[\s,!.:;-]*)+",
)
# A greeting that names the listener: "Hey Mel," / "Thanks, Caroline!".
_LEADING_VOCATIVE = re.compile(r"^(?:hey|hi|hello|thanks|thank you),?\s+[a-z]+[,!.]\s*")
_FILLERS = re.compile(r",?\s*\b(?:you know|you see|i mean|to be honest|like,)\s*,?", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|yourselves|u|ya|y'all)\b")
_FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|my|mine|myself|we|we're|we've|we'll|we'd|us|our|ours|"
    r"ourselves)\b"
)
# Words that say nothing about the person on their own. A sentence needs at least
# MIN_CONTENT_WORDS others to become a belief ("I love it!" and "I'm so glad" do not).
MIN_CONTENT_WORDS = 1
_LOW_CONTENT = frozenset(
    [
        "i",
        "i'm",
        "im",
        "i've",
        "ive",
        "i'd",
        "i'll",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "we're",
        "we've",
        "we'll",
        "we'd",
        "us",
        "our",
        "ours",
        "ourselves",
        "it",
        "it's",
        "its",
        "that",
        "that's",
        "this",
        "these",
        "those",
        "there",
        "here",
        "they",
        "them",
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "if",
        "then",
        "than",
        "too",
        "very",
        "really",
        "just",
        "also",
        "even",
        "still",
        "totally",
        "so",
        "much",
        "many",
        "lot",
        "lots",
        "bit",
        "little",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "about",
        "from",
        "by",
        "up",
        "out",
        "off",
        "into",
        "over",
        "as",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "don't",
        "didn't",
        "can",
        "can't",
        "could",
        "will",
        "won't",
        "would",
        "should",
        "must",
        "may",
        "might",
        "shall",
        "get",
        "got",
        "gonna",
        "wanna",
        "gotta",
        "go",
        "going",
        "know",
        "knew",
        "agree",
        "see",
        "saw",
        "hope",
        "think",
        "thought",
        "guess",
        "mean",
        "meant",
        "sure",
        "glad",
        "love",
        "loved",
        "like",
        "liked",
        "wait",
        "hear",
        "heard",
        "feel",
        "felt",
        "say",
        "said",
        "tell",
        "told",
        "thing",
        "things",
        "stuff",
        "something",
        "anything",
        "everything",
        "one",
        "ones",
        "way",
        "ways",
        "time",
        "times",
        "awesome",
        "great",
        "cool",
        "nice",
        "amazing",
        "wonderful",
        "fantastic",
        "good",
        "lovely",
        "sweet",
        "beautiful",
        "incredible",
        "happy",
        "excited",
        "thrilled",
        "proud",
        "grateful",
        "thankful",
        "appreciate",
        "appreciated",
        "yeah",
        "yes",
        "no",
        "not",
        "never",
        "all",
        "right",
        "true",
        "okay",
        "ok",
        "oh",
        "wow",
        "well",
        "now",
        "always",
        "definitely",
        "absolutely",
        "again",
        "back",
        "more",
        "most",
        "such",
        "what",
        "which",
        "who",
        "how",
        "when",
        "where",
        "why",
    ]
)

# --- Negation and change -----------------------------------------------------------------------
# Each pattern captures the affirmative claim in the first person; group "verb" is a plain verb,
# group "gerund" an -ing form to turn back into a verb ("quit smoking" -> "smoke").
CONTRADICTION_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"\bi (?:no longer|don't|do not|never) (?P<verb>(?!(?:have to|know|think|mean|get|see|"
        r"understand|remember|believe|wanna|want to know)\b)[a-z']+)(?P<rest>[^,;]*?)"
        r"(?: any ?more| these days)?(?=[,;]| - |$)"
    ),
    re.compile(
        r"\bi(?:'m| am) (?:no longer|not) (?P<be>(?!sure\b|going to\b|gonna\b)[^,;]+?)"
        r"(?: any ?more)?(?=[,;]| - |$)"
    ),
    re.compile(
        r"\bi (?:'ve |have )?(?:quit|stopped|gave up|given up) (?P<gerund>[a-z]+ing)"
        r"(?P<rest>[^,;]*?)(?=[,;]| - |$)"
    ),
    re.compile(r"\bi used to (?P<verb>[a-z']+)(?P<rest>[^,;]*?)(?=[,;]| - |$)"),
)

# --- Kinds ---------------------------------------------------------------------------------------
# Checked in this order; the first that matches wins. Earlier kinds are the more specific
# readings ("I want to start painting" is a goal before it is anything else).
KIND_CUES: tuple[tuple[BeliefKind, re.Pattern[str]], ...] = (
    (
        BeliefKind.PLAN,
        re.compile(
            r"\b(?:going to|gonna|i'm off to|planning|plan to|plan on|about to|intend to|scheduled|"
            r"i'll|i will|we'll|we will|tomorrow|next (?:week|weekend|month|year|summer|spring|"
            r"fall|autumn|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b"
        ),
    ),
    (
        BeliefKind.GOAL,
        re.compile(
            r"\b(?:want to|wanna|hope to|hoping to|my goal|goal is|dream of|dream is|dreaming of|"
            r"aim to|aiming to|wish to|would love to|i'd love to|i'd like to|would like to|"
            r"trying to|working towards?|determined to|striving)\b"
        ),
    ),
    (
        BeliefKind.VALUE,
        re.compile(
            r"\b(?:important to me|matters to me|means (?:a lot|so much|everything) to me|"
            r"i value|i care (?:a lot |deeply |so much )?about|i believe in|close to my heart|"
            r"passionate about|my values)\b"
        ),
    ),
    (
        BeliefKind.OPINION,
        re.compile(
            r"\b(?:i think|i believe|in my opinion|i feel that|imo|i reckon|overrated|underrated)\b"
        ),
    ),
    (
        BeliefKind.EXPERTISE,
        re.compile(
            r"\b(?:work(?:ed|ing)? as|expert|years of experience|speciali[sz]e|professional|"
            r"skilled|proficient|certified|good at|fluent in|degree in|trained as|i teach|"
            r"i'm an? (?:\w+ )?(?:engineer|developer|teacher|nurse|doctor|designer|writer|"
            r"musician|counselor|lawyer|chef|scientist|professor|programmer|consultant|coach))\b"
        ),
    ),
    (
        BeliefKind.IDENTITY,
        re.compile(
            r"^(?:i'm|i am) an? (?!bit\b|little\b|lot\b|fan\b|big fan\b|huge fan\b)\w+|"
            r"\bidentify as\b|\bmy name is\b|\bi'm from\b|\bi am from\b|"
            r"\bi'm (?:transgender|trans|gay|lesbian|bisexual|queer|non-?binary|vegan|vegetarian|"
            r"christian|muslim|jewish|buddhist|hindu|atheist|introvert|extrovert|single)\b"
        ),
    ),
    (
        BeliefKind.HABIT,
        re.compile(
            r"\b(?:every (?:day|morning|evening|night|week|weekend|month|year|sunday|saturday)|"
            r"each (?:day|week|morning|evening)|daily|weekly|usually|always|often|regularly|"
            r"routine|habit|most days|on weekends|every other|twice a|once a|sometimes|tend to|"
            r"used to)\b"
        ),
    ),
    # EXPERIENCE is decided by tense, not cue words: see ``classify``.
    (
        BeliefKind.PREFERENCE,
        re.compile(
            r"\b(?:i|we)(?: \w+)? (?:love|like|enjoy|prefer|adore|hate|dislike)\b|"
            r"\b(?:i'm|i am|we're|we are|i've been|i have been)(?: \w+)? into\b|"
            r"\b(?:fan of|favou?rite|can't stand|keen on|fond of|obsessed with)\b"
        ),
    ),
    (
        BeliefKind.RELATIONSHIP,
        re.compile(
            r"\b(?:my|our) (?:\w+ )?(?:husband|wife|partner|spouse|boyfriend|girlfriend|"
            r"fianc[eé]e?|"
            r"kids?|children|child|sons?|daughters?|mom|mother|dad|father|parents|brothers?|sisters?|"
            r"siblings?|friends?|family|grandma|grandmother|grandpa|grandfather|grandkids|cousins?|"
            r"aunt|uncle|niece|nephew|baby|twins?)\b|"
            r"\b(?:married|divorced|engaged|dating|widowed|single (?:mom|dad|parent))\b|"
            r"\b(?:have|has) (?:\w+ )?(?:kids|children|sons?|daughters?|husband|wife|partner|"
            r"boyfriend|girlfriend|siblings?|brothers?|sisters?)\b"
        ),
    ),
    (
        BeliefKind.STATE,
        re.compile(
            r"\b(?:i feel|i'm feeling|feeling|tired|exhausted|stressed|swamped|overwhelmed|anxious|"
            r"nervous|sad|upset|sick|ill|busy|excited|thrilled|happy|lonely|bored|worried|"
            r"grateful|thankful|frustrated|burnt out|burned out|depressed|scared|relieved|proud)\b"
        ),
    ),
)
# Kinds that, said plainly by the speaker about themselves, are self-descriptions.
STATED_KINDS = frozenset(
    {
        BeliefKind.PREFERENCE,
        BeliefKind.IDENTITY,
        BeliefKind.VALUE,
        BeliefKind.EXPERTISE,
        BeliefKind.FACT,
        BeliefKind.RELATIONSHIP,
        BeliefKind.HABIT,
        BeliefKind.GOAL,
        BeliefKind.OPINION,
    }
)
_SELF_DESCRIPTION_START = re.compile(r"^(?:i|i'm|i am|i've|i have|my)\b")
_PAST_START = re.compile(r"^(?:i|we) (?:\w+ )?(?P<verb>[a-z]+)\b")

# Subjectless sentences that clearly describe the speaker ("Went camping with the kids!").
STATE_ADJECTIVES = frozenset(
    [
        "excited",
        "thrilled",
        "stoked",
        "happy",
        "glad",
        "tired",
        "exhausted",
        "nervous",
        "proud",
        "grateful",
        "thankful",
        "busy",
        "swamped",
        "stressed",
        "bored",
        "scared",
        "worried",
        "sad",
        "sick",
    ]
)
SUBJECTLESS_PRESENT = frozenset(["need", "want", "hope", "plan", "wish", "gotta", "wanna"])
SUBJECTLESS_LEADS = frozenset(["just", "finally", "recently", "also", "still"])


@dataclass(frozen=True, slots=True)
class Hedging:
    strength: float
    text: str  # the sentence with removable hedge words taken out


def measure_hedging(lowered: str, original: str) -> Hedging:
    """How strongly the sentence asserts itself, and the sentence without its hedge words.

    ``lowered`` is ``original`` lower-cased (same length), used for matching only.
    """
    strength = 1.0
    if _STRONG_HEDGES.search(lowered):
        strength = STRONG_HEDGE_STRENGTH
    elif _MILD_HEDGES.search(lowered) or _HEDGE_FRAME.search(lowered):
        strength = MILD_HEDGE_STRENGTH
    text = _remove(original, lowered, _HEDGE_FRAME)
    text = _remove(text, text.lower(), _REMOVABLE_HEDGES)
    return Hedging(strength=strength, text=text)


def strip_small_talk(text: str, listener: str | None = None) -> str:
    """``text`` without leading interjections, vocatives and conversational fillers.

    With the ``listener``'s name, it is also removed where it is a vocative ("Yep Jon, ...",
    "..., Jon!"), wherever it stands.
    """
    if listener:
        text = re.sub(
            rf"^{re.escape(listener)}\s*[,!.]\s*|,\s*{re.escape(listener)}\b\s*(?=[,.!?]|$)",
            "",
            text,
            flags=re.IGNORECASE,
        )
    previous = None
    while previous != text:
        previous = text
        text = _remove(text, text.lower(), _LEADING_VOCATIVE, anchored=True)
        text = _remove(text, text.lower(), _LEADING_MARKERS, anchored=True)
        if listener:
            text = re.sub(rf"^{re.escape(listener)}\s*[,!.]\s*", "", text, flags=re.IGNORECASE)
    return _FILLERS.sub("", text).strip(" ,;:-")


def content_word_count(lowered: str) -> int:
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", lowered)
    return sum(1 for word in words if word not in _LOW_CONTENT and len(word) > 1)


# Suggestions and pep talk ("Let's go!", "We can do this!") and imperatives ("Check this out")
# say nothing about what the speaker is.
_EXHORTATION = re.compile(
    r"^(?:let's|let us|we (?:all|can|should|must|got this|will get through)|check|look at|take|"
    r"keep|stay|hang in|go|come|try|remember|imagine|don't forget|enjoy|wish me)\b"
)


def is_exhortation_or_imperative(lowered: str) -> bool:
    return _EXHORTATION.match(lowered) is not None


def addresses_listener(lowered: str) -> bool:
    return _SECOND_PERSON.search(lowered) is not None


def mentions_speaker(lowered: str) -> bool:
    return _FIRST_PERSON.search(lowered) is not None


def is_self_description(lowered: str) -> bool:
    return _SELF_DESCRIPTION_START.match(lowered) is not None


def classify(lowered: str, *, past: bool) -> BeliefKind:
    """The kind of a first-person sentence by the cue lists above (EXPERIENCE when ``past``)."""
    for kind, cue in KIND_CUES:
        if kind is BeliefKind.PREFERENCE and past:
            return BeliefKind.EXPERIENCE
        if cue.search(lowered):
            return kind
    return BeliefKind.EXPERIENCE if past else BeliefKind.FACT


def _remove(text: str, lowered: str, pattern: re.Pattern[str], *, anchored: bool = False) -> str:
    """Delete the matches of ``pattern`` (found in ``lowered``) from ``text``, keeping its case."""
    pieces: list[str] = []
    cursor = 0
    matches = [pattern.match(lowered)] if anchored else list(pattern.finditer(lowered))
    for match in matches:
        if match is None or match.end() == match.start():
            continue
        pieces.append(text[cursor : match.start()])
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces)
