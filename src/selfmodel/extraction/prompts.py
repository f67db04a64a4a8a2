"""Every prompt the LLM extractor sends, in one place, with a version.

Bump ``PROMPT_VERSION`` whenever a prompt or the response schema changes: it is recorded as the
extractor's version on every belief event, so benchmarks and traces say which prompt produced what.
"""

from __future__ import annotations

import json
from typing import Any

from selfmodel.domain import BeliefKind, Facet
from selfmodel.extraction.stance import Stance

PROMPT_VERSION = "2026-11-extract-v3"

_KINDS = ", ".join(kind.value for kind in BeliefKind)

_FACETS = ", ".join(f.value for f in Facet if f is not Facet.NAME)

_STANCES = ", ".join(stance.value for stance in Stance)

SYSTEM_PROMPT = f"""\
You read messages a person wrote (with the turns just before them, for context) and extract what
they reveal about that person (the speaker). Return JSON only, matching the schema you are given.

What becomes a belief, and what does not:
- Only what the speaker says about themselves. Greetings, thanks, backchannels ("haha yeah")
  and questions to the other party yield nothing.
- A stance the speaker takes toward the person they talk with, when that person is named (the
  other speaker, or a name the message addresses; never the assistant), is one belief with
  "stance": cheering them on ("Keep going!", "You got this", "I'm rooting for you":
  "encourages"), valuing their support ("your support means a lot", "thanks for having my back":
  "values_support"), valuing the friendship ("I appreciate our friendship":
  "values_friendship"), being inspired by them ("your success inspires me": "inspired_by"),
  admiring them ("I'm in awe of your courage": "admires"). Other pep talk and compliments yield
  nothing.
- What someone else said (the assistant, the other speaker) is never evidence about the speaker,
  unless the speaker affirms it.
- Instructions to the assistant about how to answer ("please keep answers short", "don't use
  jargon") ARE beliefs: preferences with "domain": "communication".
- A pick among options offered just before ("the second one", "the quieter hotel") is a
  preference: state what was chosen over what ("Maya chose a quiet lakeside hotel over a lively
  hostel").
- At most one belief per message for what it says (its most informative sentences, joined with
  ";"), plus one belief of its own per single-valued fact it states (see "facet") and per
  instruction. A statement that cannot stand on its own (an "it" or "that" you cannot resolve
  from the message or the turns before) is no belief.

For each belief:
- "statement": third person, naming the speaker once and then "they" ("Maya painted the lake
  sunrise in 2022; it is special to them"). Never "I", "my" or "you". Keep hedges ("may",
  "maybe", "thinks"), negations and tense as said.
- Resolve relative dates (yesterday, last week, next month, last summer) against the message
  date and write them as absolute dates ("on 7 May 2023", "in June 2023", "in 2022").
- "kind": one of {_KINDS}.
- "strength": 1.0 for a plain assertion, about 0.7 for mild hedging ("I think", "probably"),
  about 0.5 for strong hedging ("maybe", "might").
- "stated": true when the speaker explicitly describes themselves ("I am...", "I love...").
- "negated": true when the statement denies something ("doesn't eat meat", "quit smoking").
- "change": true when it reports a change ("no longer", "anymore", "quit", "moved to", "now").
- "contradicts": for a negated statement, the affirmative claim it denies ("Maya eats meat");
  otherwise null.
- "facet": when the statement sets a single-valued fact about the speaker, one of {_FACETS},
  and "value" its value ("Edinburgh", "Stripe", "nurse", "married", "vegetarian"); else nulls.
- "name": the speaker's own name when they introduce themselves ("I'm Priya"), else null.
- "topics": lemmas of what it is about ("paint", "lake", "sunrise").
- "interests": what it shows the speaker likes or does for its own sake ("pottery", "hiking").
- "related": people and pets of the speaker's it names: relation ("husband", "daughter",
  "friend", or "pet"), name (or null) and species for pets ("dog", "cat").
- "domain": "communication" for how the speaker wants to be answered, else null.
- "stance": for a stance toward the named person talked with, {{"kind": one of {_STANCES},
  "person": their name}}; else null.
- "quote": the exact words of the message the belief comes from, copied character for character.
- "valid_from": the date (YYYY-MM-DD) the statement became true if the message says, else null.
- "message": the id of the message the belief comes from.
"""

_NULLABLE_STRING = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": {"type": "string"}}

# The JSON schema of the answer, for endpoints that support ``response_format: json_schema``.
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["beliefs"],
    "properties": {
        "beliefs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "message",
                    "statement",
                    "kind",
                    "strength",
                    "stated",
                    "negated",
                    "change",
                    "contradicts",
                    "facet",
                    "value",
                    "name",
                    "topics",
                    "interests",
                    "related",
                    "domain",
                    "stance",
                    "quote",
                    "valid_from",
                ],
                "properties": {
                    "message": {"type": "string"},
                    "statement": {"type": "string"},
                    "kind": {"type": "string", "enum": [kind.value for kind in BeliefKind]},
                    "strength": {"type": "number", "minimum": 0, "maximum": 1},
                    "stated": {"type": "boolean"},
                    "negated": {"type": "boolean"},
                    "change": {"type": "boolean"},
                    "contradicts": _NULLABLE_STRING,
                    "facet": {
                        "type": ["string", "null"],
                        "enum": [*(f.value for f in Facet if f is not Facet.NAME), None],
                    },
                    "value": _NULLABLE_STRING,
                    "name": _NULLABLE_STRING,
                    "topics": _STRINGS,
                    "interests": _STRINGS,
                    "related": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["relation", "name", "species"],
                            "properties": {
                                "relation": {"type": "string"},
                                "name": _NULLABLE_STRING,
                                "species": _NULLABLE_STRING,
                            },
                        },
                    },
                    "domain": {"type": ["string", "null"], "enum": ["communication", None]},
                    "stance": {
                        "type": ["object", "null"],
                        "additionalProperties": False,
                        "required": ["kind", "person"],
                        "properties": {
                            "kind": {"type": "string", "enum": [s.value for s in Stance]},
                            "person": {"type": "string"},
                        },
                    },
                    "quote": {"type": "string"},
                    "valid_from": _NULLABLE_STRING,
                },
            },
        }
    },
}


def user_prompt(messages: list[dict[str, Any]]) -> str:
    """The user turn: the messages to read, each with an id, speaker, date and text."""
    return (
        "Extract beliefs about each message's speaker from these messages "
        '(JSON list; "before" holds the turns just before a message, for context only; answer '
        'with an object {"beliefs": [...]}):\n' + json.dumps(messages, ensure_ascii=False, indent=1)
    )
