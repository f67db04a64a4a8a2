"""Outcomes: record what happened after an answer, and read them back (see docs/library.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from selfmodel.domain import Outcome, OutcomeKind, new_id
from selfmodel.domain.outcomes import (
    MAX_LABEL_CHARS,
    MAX_OUTCOME_ID_CHARS,
    MAX_USED_ITEMS,
    kind_problems,
)
from selfmodel.domain.text import check_text
from selfmodel.domain.time import parse_timestamp, utcnow
from selfmodel.engine.base import EngineBase, check_user_id, parse_enum
from selfmodel.errors import ConflictError, InvalidInputError, TraceNotFoundError

OUTCOME_ID_PREFIX = "out"
# What must match for a repeated ``id`` to be the same outcome (``occurred_at`` too, when the
# repeat gives one: a retry that leaves it out means "when first recorded").
_SAME_CONTENT = ("kind", "trace_id", "name", "value", "label", "used_item_ids")


class Outcomes(EngineBase):
    """Outcome events about a user: explicit feedback, implicit signals, custom metrics."""

    def record_outcome(
        self,
        user: str,
        kind: OutcomeKind | str,
        *,
        trace_id: str | None = None,
        name: str | None = None,
        value: float | None = None,
        label: str | None = None,
        used_item_ids: Sequence[str] | None = None,
        occurred_at: datetime | date | str | None = None,
        id: str | None = None,
    ) -> Outcome:
        """Record one outcome of ``user``, optionally judging the answer of trace ``trace_id``.

        ``kind`` decides what else it takes (``OutcomeKind``): a rating's ``value`` on the 1–5
        scale, the ``days`` a returning user was away as ``value``, a metric's ``name`` and
        ``value``; explicit feedback may carry a ``label`` (a correction's text, a reason).
        ``used_item_ids`` names the trace's chosen context items the answer used (it needs
        ``trace_id``). With ``id``, recording it again returns the first record; the same
        ``id`` with different content is a ``ConflictError``.

        Raises ``UserNotFoundError`` (only ``observe`` creates users), ``TraceNotFoundError``
        for a trace not in this workspace, ``InvalidInputError`` for anything else wrong.
        """
        check_user_id(user)
        parsed: OutcomeKind = parse_enum(OutcomeKind, kind, "kind")
        if id is not None:
            _check_outcome_id(id)
        number = _number(value)
        check_text(name, "name")
        _check_label(label)
        problems = kind_problems(parsed, name, number, label)
        if problems:
            field, message = problems[0]
            raise InvalidInputError(message, field=field, problems=dict(problems))
        used = _used_items(used_item_ids, trace_id)
        when = None if occurred_at is None else _moment(occurred_at)
        u = self.user(user)
        ws = self.workspace.id
        if trace_id is not None:
            _check_trace(self, trace_id, u.id, used)
        now = utcnow()
        candidate = Outcome(
            id=new_id(OUTCOME_ID_PREFIX),
            workspace_id=ws,
            user_id=u.id,
            kind=parsed,
            trace_id=trace_id,
            name=name,
            value=number,
            label=label,
            used_item_ids=used,
            external_id=id,
            occurred_at=when or now,
            recorded_at=now,
        )
        with self._c.units.user(ws, u.id):
            if id is not None:
                earlier = self._c.store.get_outcome_by_external_id(ws, u.id, id)
                if earlier is not None:
                    _same_or_conflict(earlier, candidate, explicit_time=when is not None)
                    return earlier
            self._c.store.insert_outcome(candidate)
        return candidate

    def outcomes(
        self,
        user: str,
        *,
        trace_id: str | None = None,
        kind: OutcomeKind | str | None = None,
    ) -> list[Outcome]:
        """``user``'s outcomes in the order they were recorded, optionally of one trace or kind."""
        check_text(trace_id, "trace_id")
        wanted = None if kind is None else parse_enum(OutcomeKind, kind, "kind")
        u = self.user(user)
        return self._c.store.list_outcomes(self.workspace.id, u.id, trace_id=trace_id, kind=wanted)


def _check_outcome_id(value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("id must be a non-empty string", field="id")
    if len(value) > MAX_OUTCOME_ID_CHARS:
        raise InvalidInputError(f"id is longer than {MAX_OUTCOME_ID_CHARS} characters", field="id")
    check_text(value, "id")


def _moment(value: datetime | date | str) -> datetime:
    try:
        return parse_timestamp(value, field="occurred_at")
    except OverflowError:
        # An offset that pushes a moment past year 9999 (or before year 1) has no UTC spelling.
        raise InvalidInputError(
            "occurred_at is out of the range of UTC timestamps", field="occurred_at"
        ) from None


def _number(value: Any) -> float | None:
    # bool is an int to Python, never a measurement.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError("value must be a number", field="value")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError("value must be a finite number", field="value")
    return number


def _check_label(label: Any) -> None:
    if label is None:
        return
    if not isinstance(label, str) or not label.strip():
        raise InvalidInputError("label must be a non-empty string", field="label")
    if len(label) > MAX_LABEL_CHARS:
        raise InvalidInputError(f"label is longer than {MAX_LABEL_CHARS} characters", field="label")
    check_text(label, "label")


def _used_items(used: Sequence[str] | None, trace_id: str | None) -> tuple[str, ...] | None:
    if used is None:
        return None
    if trace_id is None:
        raise InvalidInputError(
            "used_item_ids name items of a trace: give the trace_id too", field="used_item_ids"
        )
    if isinstance(used, str) or not all(isinstance(i, str) and i for i in used):
        raise InvalidInputError(
            "used_item_ids must be a list of item ids (non-empty strings)", field="used_item_ids"
        )
    if len(used) > MAX_USED_ITEMS:
        raise InvalidInputError(
            f"used_item_ids holds more than {MAX_USED_ITEMS} ids", field="used_item_ids"
        )
    check_text(list(used), "used_item_ids")
    # Order is the caller's; a repeated id says nothing more.
    return tuple(dict.fromkeys(used))


def _check_trace(
    engine: EngineBase, trace_id: str, user_id: str, used: Sequence[str] | None
) -> None:
    check_text(trace_id, "trace_id")
    trace = engine.store.get_trace(engine.workspace.id, trace_id)
    if trace is None:
        raise TraceNotFoundError(f"no trace {trace_id!r} in workspace {engine.workspace.name!r}")
    if user_id not in trace.user_ids:
        raise InvalidInputError(
            f"trace {trace_id!r} did not read this user's self-model", field="trace_id"
        )
    if used:
        chosen = {c.get("id") for c in trace.payload.get("chosen", []) if isinstance(c, dict)}
        unknown = [i for i in used if i not in chosen]
        if unknown:
            raise InvalidInputError(
                f"used_item_ids not chosen by trace {trace_id!r}: {', '.join(unknown)}",
                field="used_item_ids",
                unknown=unknown,
            )


def _same_or_conflict(earlier: Outcome, candidate: Outcome, *, explicit_time: bool) -> None:
    fields = [*_SAME_CONTENT, *(("occurred_at",) if explicit_time else ())]
    differ = [f for f in fields if getattr(earlier, f) != getattr(candidate, f)]
    if differ:
        raise ConflictError(
            f"outcome id {earlier.external_id!r} was recorded before with other"
            f" {', '.join(differ)}",
            id=earlier.external_id,
            fields=differ,
        )


__all__ = ["OUTCOME_ID_PREFIX", "Outcomes"]
