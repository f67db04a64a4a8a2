"""Every prompt the LLM extractor sends, in one place, with a version.

Bump ``PROMPT_VERSION`` whenever a prompt or the response schema changes: it is recorded as the
extractor's version on every belief event, so benchmarks and traces say which prompt produced what.
"""

from __future__ import annotations

import json
from typing import Any

from selfmodel.domain import BeliefKind

PROMPT_VERSION = "2024-06-extract-v1"

_KINDS = ", ".join(kind.value for kind in BeliefKind)

SYSTEM_PROMPT = f"""\
You read messages a person wrote and extract what they reveal about that person (the speaker).
Return JSON only, matching the schema you are given.

For each message, list beliefs about the speaker:
- "statement": one third-person sentence that names the speaker (for example "Melanie started
  pottery in the week of 26 June 2023"). Never use "I", "my" or "you".
- Resolve relative dates (yesterday, last week, next month, last summer) against the message
  date and write them as absolute dates ("on 7 May 2023", "in June 2023", "in 2022").
- "kind": one of {_KINDS}.
- "strength": 1.0 for a plain assertion, about 0.7 for mild hedging ("I think", "probably"),
  about 0.5 for strong hedging ("maybe", "might").
- "stated": true when the speaker explicitly describes themselves ("I am...", "I love...").
- "contradicts": when the message negates or reports a change ("I quit smoking", "I no longer eat
  meat"), the affirmative claim it denies ("Melanie smokes"); otherwise null.
- "quote": the exact words of the message the belief comes from, copied character for character.
- "valid_from": the date (YYYY-MM-DD) the statement became true if the message says, else null.
- "message": the id of the message the belief comes from.

Questions, greetings, thanks, compliments to the other person and small talk yield nothing.
Only extract what the speaker says about themselves; do not guess.
"""

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
                    "contradicts",
                    "quote",
                    "valid_from",
                ],
                "properties": {
                    "message": {"type": "string"},
                    "statement": {"type": "string"},
                    "kind": {"type": "string", "enum": [kind.value for kind in BeliefKind]},
                    "strength": {"type": "number", "minimum": 0, "maximum": 1},
                    "stated": {"type": "boolean"},
                    "contradicts": {"type": ["string", "null"]},
                    "quote": {"type": "string"},
                    "valid_from": {"type": ["string", "null"]},
                },
            },
        }
    },
}


def user_prompt(messages: list[dict[str, str]]) -> str:
    """The user turn: the messages to read, each with an id, speaker, date and text."""
    return (
        "Extract beliefs about each message's speaker from these messages "
        '(JSON list; answer with an object {"beliefs": [...]}):\n'
        + json.dumps(messages, ensure_ascii=False, indent=1)
    )
