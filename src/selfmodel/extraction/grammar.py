"""First person to third person: "I love my kids" said by Melanie -> "Melanie loves Melanie's kids".

Deliberately small English morphology, enough for conversational first-person statements: verb
agreement after the subject ("I have" -> "has", "I don't" -> "doesn't"), past tense left alone,
gerunds turned back into verbs for contradiction claims ("quit smoking" -> "smokes").

Choices (documented because beliefs are read by people):
- The subject is always named, never a gendered pronoun: we do not know the speaker's pronouns,
  and a belief must stand on its own when retrieved out of context. "myself" becomes "themselves".
- "we"/"us" become "<name> and family" when the sentence talks about family (kids, husband, ...),
  otherwise "<name> and others"; "our" becomes "<name>'s" (the speaker shares it).
"""

from __future__ import annotations

import re

# Words that can sit between "I" and its verb without being the verb ("I really love").
ADVERBS = frozenset(
    [
        "just",
        "really",
        "also",
        "finally",
        "always",
        "usually",
        "often",
        "sometimes",
        "never",
        "still",
        "actually",
        "recently",
        "totally",
        "absolutely",
        "definitely",
        "truly",
        "even",
        "only",
        "already",
        "now",
        "mostly",
        "rarely",
        "seriously",
        "honestly",
        "personally",
        "literally",
        "basically",
        "generally",
        "normally",
        "typically",
        "especially",
        "certainly",
        "genuinely",
        "occasionally",
        "barely",
        "hardly",
        "almost",
        "nearly",
        "simply",
        "constantly",
        "regularly",
        "currently",
        "officially",
        "originally",
        "eventually",
        "suddenly",
        "slowly",
        "once",
        "no",
        "longer",
        "ever",
        "first",
        "so",
        "def",
        "kinda",
        "sorta",
    ]
)
MODALS = frozenset(
    [
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "ought",
        "can't",
        "couldn't",
        "won't",
        "wouldn't",
        "shouldn't",
        "mightn't",
        "mustn't",
        "cannot",
        "used",
        "didn't",
        "wasn't",
        "was",
        "had",
        "hadn't",
    ]
)
# Present-tense forms that do not follow the regular -s rule.
_IRREGULAR_PRESENT = {
    "am": "is", "are": "is", "were": "was", "weren't": "wasn't", "have": "has", "do": "does",
    "don't": "doesn't", "haven't": "hasn't", "ain't": "isn't", "'m": "is", "wanna": "wants to",
    "gotta": "has to", "go": "goes",
}  # fmt: skip
IRREGULAR_PAST = frozenset(
    [
        "went",
        "got",
        "made",
        "took",
        "saw",
        "came",
        "felt",
        "found",
        "gave",
        "had",
        "kept",
        "knew",
        "left",
        "lost",
        "met",
        "paid",
        "ran",
        "said",
        "sat",
        "sold",
        "sent",
        "spent",
        "stood",
        "thought",
        "told",
        "understood",
        "won",
        "wrote",
        "began",
        "bought",
        "brought",
        "built",
        "caught",
        "chose",
        "did",
        "drew",
        "drove",
        "ate",
        "fell",
        "flew",
        "forgot",
        "grew",
        "heard",
        "held",
        "led",
        "lent",
        "lit",
        "meant",
        "rode",
        "rose",
        "sang",
        "shot",
        "slept",
        "spoke",
        "swam",
        "taught",
        "threw",
        "woke",
        "wore",
        "became",
        "broke",
        "dug",
        "fed",
        "fought",
        "hid",
        "hung",
        "laid",
        "forgave",
        "sank",
        "shook",
        "sought",
        "stuck",
        "struck",
        "swore",
        "tore",
        "wept",
        "bit",
        "blew",
        "bore",
        "dealt",
        "drank",
        "dreamt",
        "froze",
        "hung",
        "knelt",
        "leapt",
        "learnt",
        "overcame",
        "rang",
        "sprang",
        "stole",
        "stung",
        "strove",
        "swung",
        "undertook",
        "withdrew",
        "ground",
        "been",
        "gone",
        "done",
        "seen",
    ]
)
# Same spelling in present and past; in statements about oneself they are overwhelmingly past
# ("I quit smoking", "I read it"), so they are left unchanged.
_AMBIGUOUS_PAST = frozenset(
    [
        "put",
        "read",
        "quit",
        "cut",
        "let",
        "set",
        "hit",
        "cost",
        "shut",
        "spread",
        "bet",
        "burst",
        "cast",
        "hurt",
    ]
)
_PARTICIPLE_AFTER_HAD = frozenset(
    ["been", "gone", "done", "seen", "had", "made", "got", "taken", "known"]
)
_GERUND_EXCEPTIONS = {
    "being": "be", "seeing": "see", "dying": "die", "lying": "lie", "tying": "tie",
    "changing": "change", "arranging": "arrange", "challenging": "challenge", "editing": "edit",
    "developing": "develop", "choosing": "choose", "losing": "lose", "using": "use",
    "raising": "raise", "closing": "close", "pleasing": "please", "practising": "practise",
    "exercising": "exercise", "promising": "promise", "adding": "add", "visiting": "visit",
    "volunteering": "volunteer", "gardening": "garden", "listening": "listen", "opening": "open",
    "focusing": "focus", "traveling": "travel", "travelling": "travel", "skiing": "ski",
    "cooking": "cook", "comparing": "compare", "preparing": "prepare", "exploring": "explore",
    "caring": "care", "sharing": "share", "hiking": "hike", "biking": "bike", "baking": "bake",
}  # fmt: skip
_VOWELS = frozenset("aeiou")
_FAMILY_WORDS = re.compile(
    r"\b(?:kids?|children|child|husband|wife|partner|family|son|daughter|mom|dad|parents|"
    r"brother|sister|baby|grandkids|grandchildren)\b",
    re.IGNORECASE,
)
# A token is a word (with an optional contraction) or a run of anything else.
_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[^A-Za-z]+")


def third_person_singular(verb: str) -> str:
    """The third-person singular present of ``verb`` (``go`` -> ``goes``); past forms unchanged."""
    lower = verb.lower()
    if lower in _IRREGULAR_PRESENT:
        return _IRREGULAR_PRESENT[lower]
    if (
        lower in MODALS
        or lower in IRREGULAR_PAST
        or lower in _AMBIGUOUS_PAST
        or (lower.endswith("ed") and not lower.endswith("eed"))
        or lower.endswith("ing")
        or "'" in lower
        or not lower.isalpha()
    ):
        return verb
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in _VOWELS:
        return verb[:-1] + "ies"
    return verb + "s"


def is_past_tense(word: str) -> bool:
    lower = word.lower()
    return lower in IRREGULAR_PAST or (lower.endswith("ed") and not lower.endswith("eed"))


def verb_from_gerund(gerund: str) -> str:
    """The base verb of a gerund (``smoking`` -> ``smoke``, ``running`` -> ``run``)."""
    lower = gerund.lower()
    if lower in _GERUND_EXCEPTIONS:
        return _GERUND_EXCEPTIONS[lower]
    if not lower.endswith("ing") or len(lower) < 5:
        return lower
    stem = lower[:-3]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS | set("lsfz"):
        return stem[:-1]  # running -> run, swimming -> swim
    if stem[-1] in "vzcu":
        return stem + "e"  # driving -> drive, dancing -> dance, continuing -> continue
    consonant_vowel_consonant = (
        len(stem) >= 3
        and stem[-3] not in _VOWELS
        and stem[-2] in "aiou"
        and stem[-1] in "bdkmlnprst"
    )
    # A final -t only takes an -e in short stems or -ate verbs (write, meditate; not visit).
    if consonant_vowel_consonant and (stem[-1] != "t" or len(stem) <= 4 or stem.endswith("at")):
        return stem + "e"  # smoking -> smoke, sharing -> share
    return stem


def possessive(name: str) -> str:
    return f"{name}'s"


def group_phrase(subject: str, text: str) -> str:
    """What "we" means in ``text``: the subject and their family, or the subject and others."""
    return f"{subject} and family" if _FAMILY_WORDS.search(text) else f"{subject} and others"


def to_third_person(text: str, subject: str, *, group: str | None = None) -> str:
    """Rewrite first-person references in ``text`` as references to ``subject``.

    ``text`` must use straight apostrophes. ``group`` is what "we" becomes (see ``group_phrase``).
    """
    group = group or group_phrase(subject, text)
    tokens = _TOKEN.findall(text)
    words = [i for i, token in enumerate(tokens) if token[0].isalpha()]
    out = list(tokens)
    pending_verb = False
    history: list[str] = []  # the original words seen so far
    for position, index in enumerate(words):
        token = tokens[index]
        lower = token.lower()
        following = _next_words(tokens, words, position)
        replacement: str | None = None
        conjugate_after = False
        hyphenated = index + 1 < len(tokens) and tokens[index + 1] == "-"
        if hyphenated:  # "me-time", "we-all": part of a word, not a pronoun
            pass
        elif lower == "i" and token in ("I", "i"):
            replacement = subject
            # "the coast, and I love it": a comma before "and" starts a new clause.
            comma_before = index >= 3 and "," in tokens[index - 3]
            conjugate_after = comma_before or not _compound_subject(history)
        elif lower in ("i'm", "im"):
            replacement = f"{subject} is"
        elif lower in ("i've", "ive"):
            replacement = f"{subject} has"
        elif lower == "i'll":
            replacement = f"{subject} will"
        elif lower == "i'd":
            participle = following and (
                following[0] in _PARTICIPLE_AFTER_HAD or is_past_tense(following[0])
            )
            replacement = f"{subject} had" if participle else f"{subject} would"
        elif lower in ("me",):
            replacement = subject
        elif lower in ("my", "mine", "our", "ours"):
            replacement = possessive(subject)
        elif lower in ("myself", "ourselves"):
            replacement = "themselves"
        elif lower == "we" or (lower == "us" and token != "US"):
            replacement = group
        elif lower in ("we're", "we've", "we'll", "we'd"):
            replacement = (
                group
                + {"re": " are", "ve": " have", "ll": " will", "d": " would"}[lower.split("'")[1]]
            )
        elif pending_verb:
            if lower in ADVERBS:
                history.append(token)
                continue
            replacement = _keep_case(token, third_person_singular(lower))
            pending_verb = False
        if replacement is not None:
            out[index] = replacement
            pending_verb = conjugate_after
        history.append(token)
    return "".join(out)


_DETERMINERS = frozenset(["my", "our", "the", "his", "her", "their", "a", "an"])
_PREPOSITIONS = frozenset(
    ["in", "on", "at", "of", "to", "from", "with", "for", "by", "near", "since", "until"]
)
_MONTHS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)


# "you" as the listener's name: contractions and the verbs that must agree with a named subject.
_SECOND_PERSON_FORMS = {
    "you're": " is", "you've": " has", "you'll": " will", "you'd": " would", "youre": " is",
}  # fmt: skip
_AGREE_WITH_NAME = {
    "are": "is", "were": "was", "have": "has", "do": "does", "don't": "doesn't",
    "haven't": "hasn't", "aren't": "isn't", "weren't": "wasn't",
}  # fmt: skip


def address_by_name(text: str, name: str) -> str:
    """Rewrite the second person in ``text`` as ``name`` ("proud of you" -> "proud of Jon")."""
    tokens = _TOKEN.findall(text)
    out = list(tokens)
    previous_was_you = False
    for index, token in enumerate(tokens):
        if not token[0].isalpha():
            if not token.isspace():
                previous_was_you = False
            continue
        lower = token.lower()
        if previous_was_you and lower in _AGREE_WITH_NAME:
            out[index] = _keep_case(token, _AGREE_WITH_NAME[lower])
        previous_was_you = False
        if lower in ("you", "u", "ya", "yourself"):
            out[index] = name
            previous_was_you = lower != "yourself"
        elif lower in ("your", "yours"):
            out[index] = possessive(name)
        elif lower in _SECOND_PERSON_FORMS:
            out[index] = name + _SECOND_PERSON_FORMS[lower]
    return "".join(out)


def _compound_subject(history: list[str]) -> bool:
    """ "My husband and I" / "Jon and I" take a plural verb; "I cook and I clean" does not."""
    if len(history) < 2 or history[-1].lower() not in ("and", "or"):
        return False
    before = history[-2]
    after_preposition = len(history) >= 3 and history[-3].lower() in _PREPOSITIONS
    # A capitalised word could be a name ("Jon and I") or a place or month ("in June and I").
    named = before[:1].isupper() and before.lower() not in _MONTHS and not after_preposition
    return named or (len(history) >= 3 and history[-3].lower() in _DETERMINERS)


def _next_words(tokens: list[str], words: list[int], position: int) -> list[str]:
    after = [tokens[i].lower() for i in words[position + 1 : position + 4]]
    return [w for w in after if w not in ADVERBS]


def _keep_case(original: str, replacement: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement
