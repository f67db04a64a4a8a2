"""The requests behind the SDK's methods: what to send and how to read the answer, no I/O.

A ``Call`` describes one HTTP exchange; ``_methods`` strings calls together (pages, retries,
waiting) and the clients perform them, blocking or async.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from selfmodel.domain import (
    Alert,
    AlertStatus,
    Assignment,
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    ContextResult,
    DeletedCounts,
    EvalItemScore,
    EvalRun,
    Experiment,
    ExperimentStatus,
    IssuedMirrorLink,
    Message,
    MessagesInput,
    ObserveResult,
    Outcome,
    OutcomeKind,
    ResonanceCard,
    TraceRecord,
    User,
    Variant,
)
from selfmodel.domain.audit import AuditReport
from selfmodel.domain.debugging import Lineage, ModelAsOf, ReplayResult, WhyNot
from selfmodel.domain.experiments import ExperimentAnalysis
from selfmodel.domain.personalization import PersonalizationReport
from selfmodel.domain.profile import Conflict, Profile
from selfmodel.domain.report import JoinedReport
from selfmodel.domain.retention import AuditRecord, RetentionPolicy, RetentionReport

T = TypeVar("T")
PAGE_SIZE = 500
Params = list[tuple[str, str | int | float | bool | None]]
# What the API sends of a run (all of it but the workspace, which is the key's).
EVAL_RUN_FIELDS = tuple(f.name for f in fields(EvalRun) if f.name != "workspace_id")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Params = field(default_factory=list)
    json: Any = None
    write: bool = False  # sent with an Idempotency-Key, so retrying it is safe
    timeout: float | None = None  # seconds; None: the client's own timeout


def _seg(value: str) -> str:
    return quote(value, safe="")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Message):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _messages(messages: MessagesInput) -> list[Any]:
    items = [messages] if isinstance(messages, (str, Message, Mapping)) else list(messages)
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append({"content": item})
        elif isinstance(item, Mapping) and "content" not in item and "text" in item:
            data = dict(item)
            data["content"] = data.pop("text")
            out.append(_jsonable(data))
        else:
            out.append(_jsonable(item))
    return out


def observe(
    user: str,
    messages: MessagesInput,
    *,
    area: str | None,
    at: datetime | str | None,
    source: str | None,
    wait: bool,
) -> Call[ObserveResult]:
    body: dict[str, Any] = {"messages": _messages(messages), "wait": wait}
    for name, value in (("area", area), ("at", at), ("source", source)):
        if value is not None:
            body[name] = _jsonable(value)
    return Call(
        "POST",
        f"/v1/users/{_seg(user)}/observations",
        ObserveResult.model_validate,
        json=body,
        write=True,
    )


def _statuses(status: BeliefStatus | str | Sequence[BeliefStatus | str] | None) -> Params:
    if status is None:
        return [("status", "all")]
    if isinstance(status, str):
        return [("status", str(status))]
    return [("status", str(s)) for s in status]


def beliefs_page(
    user: str,
    *,
    kind: BeliefKind | str | None,
    status: BeliefStatus | str | Sequence[BeliefStatus | str] | None,
    area: str | None,
    min_confidence: float | None,
    now: datetime | str | None,
    cursor: str | None,
    limit: int,
) -> Call[tuple[list[Belief], str | None]]:
    params: Params = [("limit", str(limit)), *_as_of(now), *_statuses(status)]
    if kind is not None:
        params.append(("kind", str(kind)))
    if area is not None:
        params.append(("area", area))
    if min_confidence is not None:
        params.append(("min_confidence", repr(float(min_confidence))))
    if cursor is not None:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[Belief], str | None]:
        return [Belief.model_validate(b) for b in data["items"]], data.get("next_cursor")

    return Call("GET", f"/v1/users/{_seg(user)}/beliefs", parse, params=params)


def users_page(cursor: str | None) -> Call[tuple[list[User], str | None]]:
    params: Params = [("limit", str(PAGE_SIZE))]
    if cursor:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[User], str | None]:
        return [User.model_validate(u) for u in data["items"]], data.get("next_cursor")

    return Call("GET", "/v1/users", parse, params=params)


def user(external_id: str) -> Call[User]:
    return Call("GET", f"/v1/users/{_seg(external_id)}", User.model_validate)


def set_display_name(external_id: str, name: str | None) -> Call[User]:
    return Call(
        "PATCH",
        f"/v1/users/{_seg(external_id)}",
        User.model_validate,
        json={"display_name": name},
        write=True,
    )


def _as_of(as_of: datetime | str | None) -> Params:
    return [] if as_of is None else [("as_of", str(_jsonable(as_of)))]


def profile(user: str, as_of: datetime | str | None) -> Call[Profile]:
    return Call(
        "GET", f"/v1/users/{_seg(user)}/profile", Profile.model_validate, params=_as_of(as_of)
    )


def conflicts(user: str, as_of: datetime | str | None) -> Call[list[Conflict]]:
    return Call(
        "GET",
        f"/v1/users/{_seg(user)}/conflicts",
        lambda data: [Conflict.model_validate(c) for c in data],
        params=_as_of(as_of),
    )


def belief(belief_id: str) -> Call[BeliefDetail]:
    return Call("GET", f"/v1/beliefs/{_seg(belief_id)}", BeliefDetail.model_validate)


def history(belief_id: str) -> Call[list[BeliefEvent]]:
    return Call(
        "GET",
        f"/v1/beliefs/{_seg(belief_id)}/history",
        lambda data: [BeliefEvent.model_validate(e) for e in data],
    )


def context(
    user: str | Sequence[str],
    query: str,
    *,
    budget_tokens: int | None,
    area: str | None,
    limit: int | None,
    now: datetime | str | None,
    moments: bool,
) -> Call[ContextResult]:
    body: dict[str, Any] = {"user": user if isinstance(user, str) else list(user), "query": query}
    for name, value in (
        ("budget_tokens", budget_tokens),
        ("area", area),
        ("limit", limit),
        ("as_of", now),
    ):
        if value is not None:
            body[name] = _jsonable(value)
    if not moments:  # sent only when it differs from the default, as servers before it allow
        body["moments"] = False
    return Call("POST", "/v1/context", ContextResult.model_validate, json=body)


def belief_action(belief_id: str, action: str) -> Call[Belief]:
    return Call(
        "POST", f"/v1/beliefs/{_seg(belief_id)}/{action}", Belief.model_validate, write=True
    )


def settle(true_id: str, false_id: str) -> Call[tuple[Belief, Belief]]:
    def parse(data: Any) -> tuple[Belief, Belief]:
        return Belief.model_validate(data["kept"]), Belief.model_validate(data["ended"])

    return Call(
        "POST", f"/v1/beliefs/{_seg(true_id)}/settle", parse, json={"over": false_id}, write=True
    )


def edit(belief_id: str, statement: str, kind: BeliefKind | str | None) -> Call[Belief]:
    body: dict[str, Any] = {"statement": statement}
    if kind is not None:
        body["kind"] = str(kind)
    return Call(
        "PATCH", f"/v1/beliefs/{_seg(belief_id)}", Belief.model_validate, json=body, write=True
    )


def add_belief(user: str, statement: str, kind: BeliefKind | str, area: str | None) -> Call[Belief]:
    body: dict[str, Any] = {"statement": statement, "kind": str(kind)}
    if area is not None:
        body["area"] = area
    return Call(
        "POST", f"/v1/users/{_seg(user)}/beliefs", Belief.model_validate, json=body, write=True
    )


def export(user: str) -> Call[dict[str, Any]]:
    return Call("GET", f"/v1/users/{_seg(user)}/export", dict)


def forget(user: str) -> Call[DeletedCounts]:
    return Call(
        "DELETE",
        f"/v1/users/{_seg(user)}",
        lambda data: DeletedCounts({str(k): int(v) for k, v in data["deleted"].items()}),
        write=True,
    )


def _trace(data: Any) -> TraceRecord:
    return TraceRecord(
        id=data["id"],
        workspace_id=data["workspace_id"],
        user_ids=tuple(data["user_ids"]),
        query=data["query"],
        created_at=datetime.fromisoformat(data["created_at"].replace("Z", "+00:00")),
        latency_ms=float(data["latency_ms"]),
        config=data["config"],
        payload=data["payload"],
    )


def trace(trace_id: str) -> Call[TraceRecord]:
    return Call("GET", f"/v1/traces/{_seg(trace_id)}", _trace)


def traces(user: str, *, limit: int, before: str | None) -> Call[list[TraceRecord]]:
    params: Params = [("limit", str(limit))]
    if before is not None:
        params.append(("before", before))
    return Call(
        "GET",
        f"/v1/users/{_seg(user)}/traces",
        lambda data: [_trace(t) for t in data],
        params=params,
    )


def beliefs_as_of(
    user: str,
    *,
    at: datetime | str | None,
    trace_id: str | None,
    valid_at: datetime | str | None,
    status: BeliefStatus | str | Sequence[BeliefStatus | str] | None,
) -> Call[ModelAsOf]:
    params: Params = _statuses(status)
    for name, value in (("at", at), ("trace_id", trace_id), ("valid_at", valid_at)):
        if value is not None:
            params.append((name, str(_jsonable(value))))
    return Call(
        "GET", f"/v1/users/{_seg(user)}/beliefs-as-of", ModelAsOf.model_validate, params=params
    )


def replay(trace_id: str, config: Mapping[str, Any] | None) -> Call[ReplayResult]:
    return Call(
        "POST",
        f"/v1/traces/{_seg(trace_id)}/replay",
        ReplayResult.model_validate,
        json={} if config is None else {"config": _jsonable(config)},
    )


def why_not(trace_id: str, item_id: str) -> Call[WhyNot]:
    return Call(
        "GET", f"/v1/traces/{_seg(trace_id)}/why-not/{_seg(item_id)}", WhyNot.model_validate
    )


def lineage(trace_id: str, item_id: str) -> Call[Lineage]:
    return Call(
        "GET", f"/v1/traces/{_seg(trace_id)}/lineage/{_seg(item_id)}", Lineage.model_validate
    )


def timeline(user: str) -> Call[list[BeliefEvent]]:
    return Call(
        "GET",
        f"/v1/users/{_seg(user)}/timeline",
        lambda data: [BeliefEvent.model_validate(e) for e in data],
    )


def decay(user: str, now: datetime | str | None) -> Call[list[Belief]]:
    body = {} if now is None else {"as_of": _jsonable(now)}
    return Call(
        "POST",
        f"/v1/users/{_seg(user)}/decay",
        lambda data: [Belief.model_validate(b) for b in data],
        json=body,
        write=True,
    )


def wait_for(observation_ids: Sequence[str], timeout: float, margin: float) -> Call[None]:
    """Wait on the server for up to ``timeout`` s; the request itself may take ``margin`` more."""
    return Call(
        "POST",
        "/v1/observations/wait",
        lambda _: None,
        json={"observation_ids": list(observation_ids), "timeout": timeout},
        timeout=timeout + margin,
    )


def set_pii_policy(policy: str) -> Call[None]:
    body = {"pii_policy": str(policy)}
    return Call("PATCH", "/v1/workspace/settings", lambda _: None, json=body, write=True)


def retention_policy() -> Call[RetentionPolicy]:
    return Call("GET", "/v1/retention", RetentionPolicy.model_validate)


def set_retention_policy(changes: RetentionPolicy | Mapping[str, object]) -> Call[RetentionPolicy]:
    # A whole policy replaces the current one: every field is sent, nulls included.
    body = changes.model_dump() if isinstance(changes, RetentionPolicy) else _jsonable(changes)
    return Call("PATCH", "/v1/retention", RetentionPolicy.model_validate, json=body, write=True)


def run_retention(dry_run: bool) -> Call[RetentionReport]:
    return Call(
        "POST",
        "/v1/retention/run",
        RetentionReport.model_validate,
        json={"dry_run": dry_run},
        write=True,
    )


def audit_page(user: str | None, cursor: str | None) -> Call[tuple[list[AuditRecord], str | None]]:
    params: Params = [("limit", str(PAGE_SIZE))]
    if user is not None:
        params.append(("user", user))
    if cursor:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[AuditRecord], str | None]:
        records = [AuditRecord.model_validate(r) for r in data["items"]]
        return records, data.get("next_cursor")

    return Call("GET", "/v1/audit-log", parse, params=params)


def record_outcome(
    user: str,
    kind: OutcomeKind | str,
    *,
    trace_id: str | None,
    name: str | None,
    value: float | None,
    label: str | None,
    used_item_ids: Sequence[str] | None,
    occurred_at: datetime | date | str | None,
    id: str | None,
) -> Call[Outcome]:
    fields = {
        "kind": str(kind.value if isinstance(kind, OutcomeKind) else kind),
        "trace_id": trace_id,
        "name": name,
        "value": value,
        "label": label,
        "used_item_ids": None if used_item_ids is None else list(used_item_ids),
        "occurred_at": occurred_at,
        "id": id,
    }
    body = {k: _jsonable(v) for k, v in fields.items() if v is not None}
    return Call(
        "POST", f"/v1/users/{_seg(user)}/outcomes", Outcome.model_validate, json=body, write=True
    )


def outcomes_page(
    user: str, trace_id: str | None, kind: OutcomeKind | str | None, cursor: str | None
) -> Call[tuple[list[Outcome], str | None]]:
    params: Params = [("limit", str(PAGE_SIZE))]
    if trace_id is not None:
        params.append(("trace_id", trace_id))
    if kind is not None:
        params.append(("kind", str(kind.value if isinstance(kind, OutcomeKind) else kind)))
    if cursor:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[Outcome], str | None]:
        return [Outcome.model_validate(o) for o in data["items"]], data.get("next_cursor")

    return Call("GET", f"/v1/users/{_seg(user)}/outcomes", parse, params=params)


def create_experiment(
    name: str,
    variants: Sequence[Variant | Mapping[str, Any]],
    *,
    control: str | None,
    layer: str | None,
    traffic: float,
    description: str | None,
) -> Call[Experiment]:
    body: dict[str, Any] = {
        "name": name,
        "variants": [
            v.model_dump(mode="json") if isinstance(v, Variant) else _jsonable(v) for v in variants
        ],
        "traffic": traffic,
    }
    extra = {"control": control, "layer": layer, "description": description}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Call("POST", "/v1/experiments", Experiment.model_validate, json=body, write=True)


def experiments_page(
    status: ExperimentStatus | str | None, cursor: str | None
) -> Call[tuple[list[Experiment], str | None]]:
    params: Params = [("limit", str(PAGE_SIZE))]
    if status is not None:
        params.append(
            ("status", str(status.value if isinstance(status, ExperimentStatus) else status))
        )
    if cursor:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[Experiment], str | None]:
        return [Experiment.model_validate(x) for x in data["items"]], data.get("next_cursor")

    return Call("GET", "/v1/experiments", parse, params=params)


def experiment(name: str) -> Call[Experiment]:
    return Call("GET", f"/v1/experiments/{_seg(name)}", Experiment.model_validate)


def stop_experiment(name: str) -> Call[Experiment]:
    return Call("POST", f"/v1/experiments/{_seg(name)}/stop", Experiment.model_validate, write=True)


def assignment(user: str, experiment: str) -> Call[Assignment]:
    # Recording the first exposure once is harmless to repeat: no Idempotency-Key needed.
    return Call(
        "POST",
        f"/v1/experiments/{_seg(experiment)}/assignments",
        Assignment.model_validate,
        json={"user": user},
    )


def analyze_experiment(
    experiment: str,
    metric: str,
    *,
    until: datetime | str | None,
    alpha: float | None,
    power: float | None,
    mde: float | None,
    horizon: int | None,
    pre_period_days: float | None,
) -> Call[ExperimentAnalysis]:
    params: Params = [("metric", metric)]
    given = {
        "until": _jsonable(until),
        "alpha": alpha,
        "power": power,
        "mde": mde,
        "horizon": horizon,
        "pre_period_days": pre_period_days,
    }
    params.extend((k, str(v)) for k, v in given.items() if v is not None)
    return Call(
        "GET",
        f"/v1/experiments/{_seg(experiment)}/analysis",
        ExperimentAnalysis.model_validate,
        params=params,
    )


def personalization(
    *,
    now: datetime | str | None,
    days: float,
    min_beliefs: int,
    min_confidence: float,
    min_offers: int,
) -> Call[PersonalizationReport]:
    params: Params = [
        ("days", str(days)),
        ("min_beliefs", str(min_beliefs)),
        ("min_confidence", str(min_confidence)),
        ("min_offers", str(min_offers)),
    ]
    if now is not None:
        params.append(("now", _jsonable(now)))
    return Call("GET", "/v1/personalization", PersonalizationReport.model_validate, params=params)


def report(*, now: datetime | str | None, days: float) -> Call[JoinedReport]:
    params: Params = [("days", str(days))]
    if now is not None:
        params.append(("now", _jsonable(now)))
    return Call("GET", "/v1/report", JoinedReport.model_validate, params=params)


def audit(*, since: datetime | date | str | None, now: datetime | str | None) -> Call[AuditReport]:
    params: Params = [
        (name, _jsonable(value)) for name, value in (("since", since), ("now", now)) if value
    ]
    return Call("GET", "/v1/audit", AuditReport.model_validate, params=params)


def _eval_run(data: Any) -> EvalRun:
    """A run as the API sends it; the workspace is the key's (its id is not sent)."""
    fields = {name: data[name] for name in EVAL_RUN_FIELDS if name in data}
    for moment in ("started_at", "finished_at"):
        fields[moment] = datetime.fromisoformat(fields[moment])
    return EvalRun(workspace_id="", **fields)


def eval_runs_page(suite: str | None, cursor: str | None) -> Call[tuple[list[EvalRun], str | None]]:
    params: Params = [("limit", str(PAGE_SIZE))]
    if suite is not None:
        params.append(("suite", suite))
    if cursor:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[EvalRun], str | None]:
        return [_eval_run(r) for r in data["items"]], data.get("next_cursor")

    return Call("GET", "/v1/eval/runs", parse, params=params)


def eval_run(run_id: str) -> Call[EvalRun]:
    return Call("GET", f"/v1/eval/runs/{_seg(run_id)}", _eval_run)


def eval_items(run_id: str) -> Call[list[EvalItemScore]]:
    def parse(data: Any) -> list[EvalItemScore]:
        return [EvalItemScore(**item) for item in data["items"]]

    return Call("GET", f"/v1/eval/runs/{_seg(run_id)}", parse)


def alerts_page(
    status: AlertStatus | str | None, cursor: str | None
) -> Call[tuple[list[Alert], str | None]]:
    params: Params = [("limit", str(PAGE_SIZE))]
    if status is not None:
        params.append(("status", str(status.value if isinstance(status, AlertStatus) else status)))
    if cursor:
        params.append(("cursor", cursor))

    def parse(data: Any) -> tuple[list[Alert], str | None]:
        return [Alert.model_validate(a) for a in data["items"]], data.get("next_cursor")

    return Call("GET", "/v1/alerts", parse, params=params)


def alert(alert_id: str) -> Call[Alert]:
    return Call("GET", f"/v1/alerts/{_seg(alert_id)}", Alert.model_validate)


def resolve_alert(alert_id: str) -> Call[Alert]:
    return Call(
        "POST", f"/v1/alerts/{_seg(alert_id)}/resolve", Alert.model_validate, json={}, write=True
    )


def request_drift_check() -> Call[None]:
    return Call("POST", "/v1/eval/drift-checks", lambda data: None, json={}, write=True)


def create_mirror_link(user: str, ttl_s: int | None) -> Call[IssuedMirrorLink]:
    return Call(
        "POST",
        f"/v1/users/{_seg(user)}/mirror-link",
        IssuedMirrorLink.model_validate,
        json={} if ttl_s is None else {"ttl_s": ttl_s},
        write=True,
    )


def revoke_mirror_links(user: str, link_id: str | None) -> Call[int]:
    path = f"/v1/users/{_seg(user)}/mirror-links"
    if link_id is not None:
        path += f"/{_seg(link_id)}"
    return Call("DELETE", path, lambda data: int(data["revoked"]), write=True)


def _card_list(data: Any) -> list[ResonanceCard]:
    return [ResonanceCard.model_validate(c) for c in data["cards"]]


def push_cards(
    user: str, statements: Sequence[str | Mapping[str, Any]], source: str | None
) -> Call[list[ResonanceCard]]:
    items = [
        {"statement": s} if isinstance(s, str) else {str(k): _jsonable(v) for k, v in s.items()}
        for s in statements
    ]
    body: dict[str, Any] = {"statements": items}
    if source is not None:
        body["source"] = source
    return Call("POST", f"/v1/users/{_seg(user)}/cards", _card_list, json=body, write=True)


def cards(user: str, open_only: bool) -> Call[list[ResonanceCard]]:
    params: Params = [("open", "true")] if open_only else []
    return Call("GET", f"/v1/users/{_seg(user)}/cards", _card_list, params=params)


def answer_cards(user: str, answers: Mapping[str, bool]) -> Call[list[ResonanceCard]]:
    return Call(
        "POST",
        f"/v1/users/{_seg(user)}/cards/answers",
        _card_list,
        json={"answers": {str(k): bool(v) for k, v in answers.items()}},
        write=True,
    )
