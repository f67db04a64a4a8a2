"""What each Inspector page shows, gathered through one operator session.

Everything is read through the session's engine, which is bound to the key's workspace: a user,
trace or item of another workspace is not found, exactly as over the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from selfmodel.audit.page import audit_body
from selfmodel.domain import BeliefStatus, TraceRecord
from selfmodel.domain.audit import Reference
from selfmodel.errors import InvalidInputError, NotFoundError, ReplayUnavailableError
from selfmodel.inspector import editor, views
from selfmodel.inspector.access import OperatorSession

USERS_PAGE = 50
TRACES_PAGE = 20
# The user page lists this many of their newest traces (the traces page has the rest).
RECENT_TRACES = 5
MAX_ID_CHARS = 200
MAX_SEARCH_CHARS = 100
# Longer than any ISO 8601 timestamp: a ``since`` this long is not one, and is not echoed back.
MAX_SINCE_CHARS = 40


def checked_id(value: str, what: str) -> str:
    """An id from a URL or form, or not found: nothing that long or with a NUL is ours."""
    if not value or len(value) > MAX_ID_CHARS or "\x00" in value:
        raise NotFoundError(f"there is no such {what}")
    return value


def users_values(session: OperatorSession, search: str, after: str) -> dict[str, Any]:
    """A page of the workspace's users by external id, optionally those whose id or name
    contains ``search``."""
    words = search.strip()[:MAX_SEARCH_CHARS].casefold()
    users = sorted(session.model.users(), key=lambda u: u.external_id)
    if words:
        users = [
            u
            for u in users
            if words in u.external_id.casefold() or words in (u.display_name or "").casefold()
        ]
    total = len(users)
    rest = [u for u in users if u.external_id > after] if after else users
    page = rest[:USERS_PAGE]
    return {
        "users": page,
        "total": total,
        "search": search.strip()[:MAX_SEARCH_CHARS],
        "next_after": page[-1].external_id if len(rest) > USERS_PAGE else None,
        "nav": "users",
    }


def user_values(session: OperatorSession, external_id: str, every: bool) -> dict[str, Any]:
    """A user's self-model: profile (facets, lists), traits, beliefs, and the newest traces."""
    model = session.model
    user = model.user(checked_id(external_id, "user"))
    beliefs = model.beliefs(user.external_id, status=None if every else BeliefStatus.ACTIVE)
    rows = views.belief_rows(beliefs)
    profile = model.profile(user.external_id)
    return {
        "user": user,
        "facets": views.facet_rows(profile),
        "lists": views.profile_lists(profile),
        "conflicts": profile.conflicts,
        "traits": [r for r in rows if r.trait and r.active],
        "beliefs": rows,
        "every": every,
        "traces": model.traces(user.external_id, limit=RECENT_TRACES),
        "nav": "users",
    }


def traces_values(session: OperatorSession, external_id: str, before: str) -> dict[str, Any]:
    model = session.model
    user = model.user(checked_id(external_id, "user"))
    older = checked_id(before, "trace") if before else None
    traces = model.traces(user.external_id, limit=TRACES_PAGE + 1, before=older)
    return {
        "user": user,
        "traces": traces[:TRACES_PAGE],
        "next_before": traces[TRACES_PAGE - 1].id if len(traces) > TRACES_PAGE else None,
        "nav": "users",
    }


def trace_users(trace: TraceRecord) -> list[dict[str, Any]]:
    """The users the call read, as it named them (external id, display name)."""
    users = trace.payload.get("users")
    return [u for u in users if isinstance(u, dict)] if isinstance(users, list) else []


def trace_values(session: OperatorSession, trace_id: str) -> dict[str, Any]:
    """A trace: its query, chosen items and candidates with their signals, the block, the config,
    and the beliefs of its users the call did not choose (to ask "why not?")."""
    model = session.model
    trace = model.trace(checked_id(trace_id, "trace"))
    payload = trace.payload
    chosen = [c for c in payload.get("chosen", []) if isinstance(c, dict)]
    chosen_ids = {str(c["id"]) for c in chosen}
    candidates = [c for c in payload.get("candidates", []) if isinstance(c, dict)]
    users = trace_users(trace)
    not_chosen: list[views.BeliefRow] = []
    replayable = True
    for u in users:
        try:
            then = model.beliefs_as_of(u["external_id"], trace_id=trace.id, status=None)
        except (ReplayUnavailableError, InvalidInputError):
            replayable = False
            break
        not_chosen += [
            views.belief_row(b.belief) for b in then.beliefs if b.belief.id not in chosen_ids
        ]
    not_chosen.sort(key=lambda r: (not r.active, -r.percent, r.statement))
    return {
        "trace": trace,
        "users": users,
        "chosen": views.item_rows(chosen, chosen_ids),
        "candidates": views.item_rows(candidates, chosen_ids),
        "not_chosen": not_chosen,
        "replayable": replayable and "model_version" in payload,
        "config": trace.config,
        "nav": "users",
    }


def why_not_values(session: OperatorSession, trace_id: str, item_id: str) -> dict[str, Any]:
    model = session.model
    trace = model.trace(checked_id(trace_id, "trace"))
    if not item_id.strip():
        raise InvalidInputError("say which belief or observation to ask about", field="item")
    why = model.why_not(trace.id, checked_id(item_id.strip(), "belief or observation"))
    return {
        "trace": trace,
        "users": trace_users(trace),
        "why": why,
        "title": views.VERDICT_TITLES[why.verdict],
        "details": views.detail_rows(why),
        "signals": views.signal_pairs(why),
        "suggestion": views.suggestion(why),
        "item_text": _item_text(trace, why.item_id) or _statement(session, why.item_id),
        "nav": "users",
    }


def replay_form_values(
    session: OperatorSession, trace_id: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """The editor for a trace's configuration, with the values "why not?" suggested."""
    trace = session.model.trace(checked_id(trace_id, "trace"))
    fields = editor.fields(trace.config, editor.suggested(params))
    return _replay_page(session, trace, fields, params.get("item", ""))


def replay_values(
    session: OperatorSession, trace_id: str, form: Mapping[str, list[str]]
) -> dict[str, Any]:
    """A replay under the form's configuration, and its diff. A configuration the editor or the
    engine refuses raises ``InvalidInputError``; ``replay_error_values`` shows it."""
    trace = session.model.trace(checked_id(trace_id, "trace"))
    result = session.model.replay(trace.id, editor.overrides(form, trace.config))
    rows, same = views.change_rows(result.items)
    chase = _first(form, "item")
    fields = editor.fields(trace.config, editor.typed_values(form, trace.config))
    values = _replay_page(session, trace, fields, chase)
    values |= {
        "result": result,
        "changes": rows,
        "unchanged": same,
        "json_box": _first(form, "config"),
        "chased_rank": next(
            (rank for rank, c in enumerate(result.chosen, start=1) if c.id == chase), None
        ),
    }
    return values


def replay_error_values(
    session: OperatorSession, trace_id: str, form: Mapping[str, list[str]], error: str
) -> dict[str, Any]:
    trace = session.model.trace(checked_id(trace_id, "trace"))
    fields = editor.fields(trace.config, editor.typed_values(form, trace.config))
    values = _replay_page(session, trace, fields, _first(form, "item"))
    return values | {"error": error, "json_box": _first(form, "config")}


def lineage_values(session: OperatorSession, trace_id: str, item_id: str) -> dict[str, Any]:
    model = session.model
    trace = model.trace(checked_id(trace_id, "trace"))
    lineage = model.lineage(trace.id, checked_id(item_id, "belief or observation"))
    chosen = {str(c.get("id")): rank for rank, c in enumerate(trace.payload.get("chosen", []), 1)}
    return {
        "trace": trace,
        "users": trace_users(trace),
        "lineage": lineage,
        "rank": chosen.get(lineage.item_id),
        "observations": {e.evidence.observation_id: e for e in lineage.evidence},
        "nav": "users",
    }


def _replay_page(
    session: OperatorSession, trace: TraceRecord, fields: list[editor.Field], item: str
) -> dict[str, Any]:
    """The editor's values; ``item``: the item the operator is chasing (from "why not?")."""
    item = item if len(item) <= MAX_ID_CHARS and "\x00" not in item else ""
    return {
        "trace": trace,
        "users": trace_users(trace),
        "fields": fields,
        "item": item,
        "item_text": (_item_text(trace, item) or _statement(session, item)) if item else "",
        "nav": "users",
    }


def _first(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def _item_text(trace: TraceRecord, item_id: str) -> str:
    """The item's text as the trace recorded it (chosen or a candidate), if it did."""
    for group in ("chosen", "candidates"):
        for item in trace.payload.get(group, []):
            if isinstance(item, dict) and item.get("id") == item_id:
                return str(item.get("text", ""))
    return ""


def _statement(session: OperatorSession, item_id: str) -> str:
    try:
        return session.model.belief(item_id).belief.statement
    except NotFoundError:
        return ""


def audit_values(session: OperatorSession, since: str, prefix: str) -> dict[str, Any]:
    """The workspace's audit (``selfmodel audit``) over the window from ``since`` (default: the
    audit's own), rendered by the audit's page with its trace and user ids linked here.

    Raises:
        InvalidInputError: ``since`` is not a date or timestamp, or not a window the audit takes.
    """
    since = since.strip()
    if len(since) > MAX_SINCE_CHARS:
        raise InvalidInputError("since must be a date (YYYY-MM-DD)", field="since")
    report = session.model.audit(since=since or None)

    def link(reference: Reference) -> str | None:
        if reference.kind == "trace":
            return f"{prefix}/traces/{quote(reference.id)}"
        if reference.kind == "user":
            return f"{prefix}/users/{quote(reference.id)}"
        return None

    # The audit's page escapes every text from the store itself.
    return {"report": Markup(audit_body(report, link)), "since": since, "nav": "audit"}


__all__ = [
    "MAX_SINCE_CHARS",
    "RECENT_TRACES",
    "TRACES_PAGE",
    "USERS_PAGE",
    "audit_values",
    "checked_id",
    "lineage_values",
    "replay_error_values",
    "replay_form_values",
    "replay_values",
    "trace_values",
    "traces_values",
    "user_values",
    "users_values",
    "why_not_values",
]
