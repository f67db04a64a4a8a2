"""Outcomes: what happened after an answer — feedback, implicit signals, custom metrics.

An outcome is tied to a user and optionally to the trace of the ``context`` call whose answer it
judges; it may name which of that trace's chosen items the answer actually used. The rules of
each kind (which of ``name``, ``value`` and ``label`` it takes) live here, beside the record, so
the library, the API and the SDK refuse the same things (``engine/outcomes.py`` applies them).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

# A rating is on a 1–5 scale (fractions allowed: half stars); products with another scale map
# onto it, so ratings stay comparable across surfaces.
RATING_MIN = 1.0
RATING_MAX = 5.0
# A correction's text or a feedback reason: a sentence or a paragraph, not a document.
MAX_LABEL_CHARS = 2_000
# A metric name: lowercase, starting with a letter; dots, colons, dashes and underscores allowed
# (``checkout.conversion``, ``session:length_s``). Bounded so names stay usable as report labels.
METRIC_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_.:\-]{0,63}")
# Context items an answer can say it used: more than a context block ever holds.
MAX_USED_ITEMS = 200
# An id the caller gives an outcome (to make recording it idempotent).
MAX_OUTCOME_ID_CHARS = 200


class OutcomeKind(StrEnum):
    """What kind of outcome: explicit feedback, an implicit signal, or a custom metric."""

    # Explicit feedback from the person.
    THUMBS_UP = "thumbs_up"
    THUMBS_DOWN = "thumbs_down"
    RATING = "rating"  # value: RATING_MIN..RATING_MAX
    CORRECTION = "correction"  # label: what the answer should have said (optional)
    # Implicit signals the product observes.
    ACCEPTED = "accepted"
    TASK_COMPLETED = "task_completed"
    CONTINUED = "continued"
    RETURNED = "returned"  # value: days since the user was last seen (>= 0)
    # A custom numeric metric the product names.
    METRIC = "metric"  # name and a finite value required


FEEDBACK_KINDS = frozenset(
    {OutcomeKind.THUMBS_UP, OutcomeKind.THUMBS_DOWN, OutcomeKind.RATING, OutcomeKind.CORRECTION}
)
IMPLICIT_KINDS = frozenset(
    {
        OutcomeKind.ACCEPTED,
        OutcomeKind.TASK_COMPLETED,
        OutcomeKind.CONTINUED,
        OutcomeKind.RETURNED,
    }
)
# Kinds that carry a value, and the kinds that may carry a label (the person's own words).
VALUED_KINDS = frozenset({OutcomeKind.RATING, OutcomeKind.RETURNED, OutcomeKind.METRIC})
LABELLED_KINDS = FEEDBACK_KINDS


def kind_problems(
    kind: OutcomeKind, name: str | None, value: float | None, label: str | None
) -> list[tuple[str, str]]:
    """What is wrong with ``name``, ``value`` and ``label`` for ``kind``, as (field, message)."""
    problems: list[tuple[str, str]] = []
    if kind is OutcomeKind.METRIC:
        if name is None:
            problems.append(("name", "a metric outcome needs a name"))
        elif not METRIC_NAME_PATTERN.fullmatch(name):
            problems.append(
                (
                    "name",
                    f"metric name {name!r} must be 1–64 characters of a-z, 0-9, '_', '.', ':'"
                    " or '-', starting with a letter",
                )
            )
    elif name is not None:
        problems.append(("name", f"only a metric outcome takes a name, not {kind.value!r}"))
    if kind in VALUED_KINDS:
        if value is None:
            problems.append(("value", f"a {kind.value!r} outcome needs a value"))
        elif not math.isfinite(value):
            problems.append(("value", "value must be a finite number"))
        elif kind is OutcomeKind.RATING and not RATING_MIN <= value <= RATING_MAX:
            problems.append(
                ("value", f"a rating must be between {RATING_MIN:g} and {RATING_MAX:g}")
            )
        elif kind is OutcomeKind.RETURNED and value < 0:
            problems.append(("value", "days before the user returned must be 0 or more"))
    elif value is not None:
        problems.append(("value", f"a {kind.value!r} outcome takes no value"))
    if label is not None and kind not in LABELLED_KINDS:
        problems.append(("label", f"only explicit feedback takes a label, not {kind.value!r}"))
    return problems


class Outcome(BaseModel):
    """One recorded outcome of a user (and, when given, of one ``context`` call's answer)."""

    model_config = ConfigDict(frozen=True)

    id: str
    workspace_id: str
    user_id: str
    kind: OutcomeKind
    trace_id: str | None = None
    name: str | None = None  # metrics only
    value: float | None = None  # rating, returned (days), metric
    label: str | None = None  # explicit feedback only: a correction's text, a reason
    used_item_ids: tuple[str, ...] | None = None  # chosen items of the trace the answer used
    external_id: str | None = None  # the caller's id: recording it again changes nothing
    occurred_at: datetime
    recorded_at: datetime


__all__ = [
    "FEEDBACK_KINDS",
    "IMPLICIT_KINDS",
    "MAX_LABEL_CHARS",
    "MAX_OUTCOME_ID_CHARS",
    "MAX_USED_ITEMS",
    "METRIC_NAME_PATTERN",
    "RATING_MAX",
    "RATING_MIN",
    "Outcome",
    "OutcomeKind",
    "kind_problems",
]
