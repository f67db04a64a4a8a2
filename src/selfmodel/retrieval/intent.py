"""What a query is for: a factual question about the person, a question about what they would
do or like, or a request to do something.

"When did Caroline move?" wants the items that state the fact; "suggest a weekend trip" or "what
should I cook tonight?" wants what bears on the answer — the person's preferences, constraints
and ways — which rarely share a word with the request. Ranking weighs its signals accordingly
(see ``RankingConfig``): for a request the words of the query count for little, and what the
self-model holds about the person counts for more than raw moments.

Read from the parse (spaCy): an imperative ("Plan my Saturday", "Recommend a podcast"), a request
put as a question ("Can you suggest…", "Could you help…"), advice asked for ("What should I
cook?", "Which phone should I buy?"), or a need stated ("I need a new laptop", "I'd like to get
better at statistics").
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

_SUBJECTS = frozenset(["nsubj", "nsubjpass", "expl"])
_ADVICE_MODALS = frozenset(["should", "shall", "can", "could", "would", "might"])
_WANTING = frozenset(["want", "need", "like", "love", "wish"])
# "What's a good…", "which is the best…": a suggestion asked for as a question.
_SUGGESTING = frozenset(["good", "fun", "nice", "great", "best", "cheap", "easy", "quick", "cool"])
_OPENERS = frozenset(["please", "pls", "so", "ok", "okay", "hey", "hi", "and", "also", "now"])


def is_request(doc: Doc) -> bool:
    """True when the query asks for something to be done or advised rather than a fact."""
    words = [t for t in doc if not t.is_punct and not t.is_space]
    while words and words[0].lower_ in _OPENERS:
        words = words[1:]
    if not words:
        return False
    first = words[0]
    if first.tag_ == "VB" and first.dep_ == "ROOT" and _subject(first) is None:
        return True  # "Plan my Saturday morning."
    if first.lower_ in ("what", "which") and any(
        t.dep_ == "amod" and t.lower_ in _SUGGESTING for t in words
    ):
        return True  # "What's a fun day trip from Vancouver?"
    for token in words:
        subject = _subject(token) if token.pos_ in ("VERB", "AUX") else None
        if subject is None:
            continue
        modals = {c.lower_ for c in token.children if c.dep_ == "aux"}
        if subject.lower_ in ("you", "u") and modals & {"can", "could", "would", "will"}:
            return True  # "Can you suggest a dish?"
        if subject.lower_ in ("i", "we") and modals & _ADVICE_MODALS:
            return True  # "What should I cook?", "Which phone should I buy?"
        if subject.lower_ in ("i", "we") and token.lemma_.lower() in _WANTING:
            return True  # "I need a new laptop", "I'd like to get better at statistics"
        if token.lemma_.lower() == "help" and any(c.lower_ == "me" for c in token.children):
            return True
    return False


# "Would Mel enjoy…?", "Is Jon likely to…?": what someone would do or like, asked of them.
_CONJECTURING_MODALS = frozenset(["would", "might", "'d"])
_LIKELY = frozenset(["likely", "unlikely", "probably"])
_PEOPLE_SPOKEN_TO = frozenset(["i", "we", "you", "u"])


def asks_about_disposition(doc: Doc) -> bool:
    """True when the query asks what a person would do, like or choose ("Would Melanie rather go
    to a national park or a theme park?", "What career would Caroline likely pursue?"): no
    single moment answers it; what the person is like — their traits — bears on it."""
    words = [t for t in doc if not t.is_punct and not t.is_space]
    if any(t.lower_ in _LIKELY for t in words):
        return True
    for token in words:
        if token.lower_ not in _CONJECTURING_MODALS:
            continue
        if token.head.dep_ == "ccomp":
            continue  # "What did Caroline say she would do?": reported, a fact to look up
        subject = _subject(token.head)
        if subject is not None and subject.lower_ not in _PEOPLE_SPOKEN_TO:
            return True
    return False


def _subject(verb: Token) -> Token | None:
    return next((c for c in verb.children if c.dep_ in _SUBJECTS), None)
