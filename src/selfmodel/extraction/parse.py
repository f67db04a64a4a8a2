"""Small readings of the spaCy parse shared by the extractor's parts: which verb is the
speaker's, whose a noun is, where a clause's subject is, how a name is written."""

from __future__ import annotations

from collections.abc import Sequence

from lemminflect import getInflection, getLemma
from spacy.tokens import Token

from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.speech import FIRST_PERSON, SUBJECTS


def main_verb(words: Sequence[Token]) -> Token | None:
    """The verb whose subject is the speaker, else the sentence root."""
    for token in words:
        if token.lower_ in FIRST_PERSON and token.dep_ in SUBJECTS:
            return token.head
    roots = [t for t in words if t.dep_ == "ROOT"]
    return roots[0] if roots else (words[0] if words else None)


def said_of_someone_else(verb: Token | None) -> bool:
    """The clause's subject is a person or pet of theirs ("my dog", "my husband Tom")."""
    if verb is None:
        return False
    w = lexicon()
    subjects = [c for c in verb.children if c.dep_ in SUBJECTS]
    if any(t.lower_ in FIRST_PERSON and t.dep_ != "poss" for s in subjects for t in s.subtree):
        return False  # "My husband Tom and I went to the coast": they were there too
    return any(c.lemma_.lower() in w.kinship or c.lemma_.lower() in w.pets for c in subjects)


def is_first_person_subject(verb: Token) -> bool:
    return any(c.lower_ in FIRST_PERSON and c.dep_ in SUBJECTS for c in verb.children)


def is_gerund(token: Token) -> bool:
    """A gerund, also where the tagger made it a noun ("quit smoking": smoking/NN)."""
    return token.tag_ == "VBG" or (token.tag_ == "NN" and verb_lemma(token) is not None)


def verb_lemma(token: Token) -> str | None:
    """The verb an -ing form comes from ("smoking" -> "smoke"), or None."""
    if token.tag_ == "VBG":
        lemma: str = token.lemma_
        return lemma.lower()
    if not token.lower_.endswith("ing"):
        return None
    for lemma in getLemma(token.lower_, upos="VERB"):
        if lemma != token.lower_ and (getInflection(lemma, tag="VBG") or ("",))[0] == token.lower_:
            return lemma
    return None


def owned(token: Token) -> bool:
    """A noun the speaker owns or relates to: "my husband", "our dog", "my goal"."""
    return any(c.dep_ == "poss" and c.lower_ in FIRST_PERSON for c in token.children)


def clause_about_speaker(verb: Token) -> bool:
    return any(c.lower_ in FIRST_PERSON and c.dep_ in SUBJECTS for c in verb.children)


def has_prep(verb: Token, word: str) -> bool:
    return any(c.dep_ == "prep" and c.lower_ == word for c in verb.children)


def proper_name(token: Token) -> str:
    """A name with the words that continue it ("New York", "Acme Robotics")."""
    parts = [t for t in token.subtree if t.dep_ in ("compound", "flat") or t.i == token.i]
    parts = [t for t in parts if t.pos_ == "PROPN" or t.i == token.i]
    return " ".join(t.text for t in sorted(parts, key=lambda t: t.i))
