"""Row ↔ domain mapping shared by the SQL backends, parameterised by their ``Dialect``."""

from __future__ import annotations

from typing import Any

from selfmodel.domain import (
    Alert,
    AlertKind,
    AlertStatus,
    ApiKey,
    Area,
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefFrame,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Delivery,
    EvalItemScore,
    EvalRun,
    Evidence,
    EvidenceStance,
    Experiment,
    ExperimentStatus,
    Exposure,
    IdempotencyRecord,
    Job,
    JobKind,
    JobStatus,
    MirrorLink,
    Observation,
    ObservationKind,
    Occasion,
    Outcome,
    OutcomeKind,
    ResonanceCard,
    Role,
    Scope,
    User,
    Variant,
    Workspace,
)
from selfmodel.storage.sql_base import Dialect, Row

# The key of a belief row: never rewritten by an update.
BELIEF_KEY = ("workspace_id", "user_id", "id")
BELIEF_COLUMNS = (
    *BELIEF_KEY,
    "context_id",
    "statement",
    "kind",
    "confidence",
    "origin",
    "status",
    "valid_from",
    "valid_to",
    "evidence_logit",
    "last_evidence_at",
    "support_count",
    "contradict_count",
    "superseded_by",
    "metadata",
    "created_at",
    "updated_at",
    "frame",
    "occasions",
)
EVENT_COLUMNS = (
    "workspace_id",
    "user_id",
    "id",
    "belief_id",
    "type",
    "at",
    "cause",
    "observation_id",
    "confidence_before",
    "confidence_after",
    "details",
)


def workspace(d: Dialect, r: Row) -> Workspace:
    return Workspace(
        id=r["id"],
        name=r["name"],
        settings=d.json_out(r["settings"]),
        created_at=d.ts_out(r["created_at"]),
    )


def user(d: Dialect, r: Row) -> User:
    return User(
        id=r["id"],
        workspace_id=r["workspace_id"],
        external_id=r["external_id"],
        display_name=r["display_name"],
        created_at=d.ts_out(r["created_at"]),
    )


def context(d: Dialect, r: Row) -> Area:
    return Area(
        id=r["id"],
        workspace_id=r["workspace_id"],
        name=r["name"],
        created_at=d.ts_out(r["created_at"]),
    )


def observation(d: Dialect, r: Row) -> Observation:
    return Observation(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        external_id=r["external_id"],
        kind=ObservationKind(r["kind"]),
        role=Role(r["role"]),
        speaker=r["speaker"],
        source=r["source"],
        area_id=r["context_id"],
        content=r["content"],
        occurred_at=d.ts_out(r["occurred_at"]),
        recorded_at=d.ts_out(r["recorded_at"]),
        metadata=d.json_out(r["metadata"]),
    )


def belief(d: Dialect, r: Row) -> Belief:
    return Belief(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        area_id=r["context_id"],
        statement=r["statement"],
        kind=BeliefKind(r["kind"]),
        confidence=r["confidence"],
        origin=BeliefOrigin(r["origin"]),
        status=BeliefStatus(r["status"]),
        valid_from=d.opt_ts_out(r["valid_from"]),
        valid_to=d.opt_ts_out(r["valid_to"]),
        evidence_logit=r["evidence_logit"],
        last_evidence_at=d.opt_ts_out(r["last_evidence_at"]),
        support_count=r["support_count"],
        contradict_count=r["contradict_count"],
        superseded_by=r["superseded_by"],
        metadata=d.json_out(r["metadata"]),
        created_at=d.ts_out(r["created_at"]),
        updated_at=d.ts_out(r["updated_at"]),
        frame=BeliefFrame.model_validate(d.json_out(r["frame"])),
        occasions=tuple(Occasion.model_validate(o) for o in d.json_out(r["occasions"])),
    )


def belief_params(d: Dialect, b: Belief) -> tuple[Any, ...]:
    """Values of ``BELIEF_COLUMNS`` for ``b``, in order."""
    return (
        b.workspace_id,
        b.user_id,
        b.id,
        b.area_id,
        b.statement,
        b.kind.value,
        b.confidence,
        b.origin.value,
        b.status.value,
        d.ts_in(b.valid_from),
        d.ts_in(b.valid_to),
        b.evidence_logit,
        d.ts_in(b.last_evidence_at),
        b.support_count,
        b.contradict_count,
        b.superseded_by,
        d.json_in(b.metadata),
        d.ts_in(b.created_at),
        d.ts_in(b.updated_at),
        d.json_in(b.frame.model_dump(mode="json", exclude_defaults=True)),
        d.json_in([o.model_dump(mode="json") for o in b.occasions]),
    )


def evidence(d: Dialect, r: Row) -> Evidence:
    return Evidence(
        belief_id=r["belief_id"],
        observation_id=r["observation_id"],
        stance=EvidenceStance(r["stance"]),
        weight=r["weight"],
        span_start=r["span_start"],
        span_end=r["span_end"],
        quote=r["quote"],
        created_at=d.ts_out(r["created_at"]),
    )


def event(d: Dialect, r: Row) -> BeliefEvent:
    return BeliefEvent(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        belief_id=r["belief_id"],
        type=BeliefEventType(r["type"]),
        at=d.ts_out(r["at"]),
        cause=r["cause"],
        observation_id=r["observation_id"],
        confidence_before=r["confidence_before"],
        confidence_after=r["confidence_after"],
        details=d.json_out(r["details"]),
    )


def mirror_link(d: Dialect, r: Row) -> MirrorLink:
    return MirrorLink(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        created_at=d.ts_out(r["created_at"]),
        expires_at=d.ts_out(r["expires_at"]),
        revoked_at=d.opt_ts_out(r["revoked_at"]),
    )


def prompt(d: Dialect, r: Row) -> ResonanceCard:
    return ResonanceCard(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        statement=r["statement"],
        kind=BeliefKind(r["kind"]),
        source=r["source"],
        created_at=d.ts_out(r["created_at"]),
        answered_at=d.opt_ts_out(r["answered_at"]),
        # SQLite stores booleans as 0/1.
        selected=None if r["selected"] is None else bool(r["selected"]),
        observation_id=r["observation_id"],
        belief_id=r["belief_id"],
    )


def api_key(d: Dialect, r: Row) -> ApiKey:
    return ApiKey(
        id=r["id"],
        workspace_id=r["workspace_id"],
        name=r["name"],
        prefix=r["prefix"],
        scope=Scope(r["scope"]),
        created_at=d.ts_out(r["created_at"]),
        revoked_at=d.opt_ts_out(r["revoked_at"]),
        last_used_at=d.opt_ts_out(r["last_used_at"]),
    )


def idempotency(d: Dialect, r: Row) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=r["key"],
        request_hash=r["request_hash"],
        status_code=r["status_code"],
        response=r["response"],
        created_at=d.ts_out(r["created_at"]),
    )


def job(d: Dialect, r: Row) -> Job:
    return Job(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        kind=JobKind(r["kind"]),
        payload=d.json_out(r["payload"]),
        status=JobStatus(r["status"]),
        attempts=r["attempts"],
        max_attempts=r["max_attempts"],
        run_after=d.ts_out(r["run_after"]),
        locked_by=r["locked_by"],
        locked_until=d.opt_ts_out(r["locked_until"]),
        last_error=r["last_error"],
        created_at=d.ts_out(r["created_at"]),
        updated_at=d.ts_out(r["updated_at"]),
    )


def eval_run(d: Dialect, r: Row) -> EvalRun:
    return EvalRun(
        id=r["id"],
        workspace_id=r["workspace_id"],
        suite=r["suite"],
        suite_kind=r["suite_kind"],
        dataset_sha256=r["dataset_sha256"],
        config_sha256=r["config_sha256"],
        k=int(r["k"]),
        started_at=d.ts_out(r["started_at"]),
        finished_at=d.ts_out(r["finished_at"]),
        item_count=int(r["item_count"]),
        mean_recall=None if r["mean_recall"] is None else float(r["mean_recall"]),
        config=d.json_out(r["config"]),
        code_version=d.json_out(r["code_version"]),
        summary=d.json_out(r["summary"]),
    )


def eval_item(r: Row) -> EvalItemScore:
    return EvalItemScore(
        item_id=r["item_id"],
        recall=float(r["recall"]),
        evidence_found=int(r["evidence_found"]),
        evidence_total=int(r["evidence_total"]),
        violations=int(r["violations"]),
        tokens=int(r["tokens"]),
        latency_ms=float(r["latency_ms"]),
        category=r["category"],
    )


def outcome(d: Dialect, r: Row) -> Outcome:
    used = r["used_item_ids"]
    return Outcome(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        kind=OutcomeKind(r["kind"]),
        trace_id=r["trace_id"],
        name=r["name"],
        value=None if r["value"] is None else float(r["value"]),
        label=r["label"],
        used_item_ids=None if used is None else tuple(d.json_out(used)),
        external_id=r["external_id"],
        occurred_at=d.ts_out(r["occurred_at"]),
        recorded_at=d.ts_out(r["recorded_at"]),
    )


def experiment(d: Dialect, r: Row) -> Experiment:
    return Experiment(
        id=r["id"],
        workspace_id=r["workspace_id"],
        name=r["name"],
        description=r["description"],
        variants=tuple(Variant.model_validate(v) for v in d.json_out(r["variants"])),
        control=r["control"],
        layer=r["layer"],
        traffic=float(r["traffic"]),
        bucket_start=int(r["bucket_start"]),
        bucket_end=int(r["bucket_end"]),
        salt=r["salt"],
        status=ExperimentStatus(r["status"]),
        created_at=d.ts_out(r["created_at"]),
        stopped_at=d.opt_ts_out(r["stopped_at"]),
    )


def exposure(d: Dialect, r: Row) -> Exposure:
    return Exposure(
        workspace_id=r["workspace_id"],
        experiment_id=r["experiment_id"],
        user_id=r["user_id"],
        variant=r["variant"],
        exposed_at=d.ts_out(r["exposed_at"]),
    )


def alert(d: Dialect, r: Row) -> Alert:
    return Alert(
        id=r["id"],
        workspace_id=r["workspace_id"],
        kind=AlertKind(r["kind"]),
        key=r["key"],
        status=AlertStatus(r["status"]),
        message=r["message"],
        details=d.json_out(r["details"]),
        first_seen_at=d.ts_out(r["first_seen_at"]),
        last_seen_at=d.ts_out(r["last_seen_at"]),
        seen_count=int(r["seen_count"]),
        resolved_at=d.opt_ts_out(r["resolved_at"]),
        delivery=Delivery(r["delivery"]),
        delivery_attempts=int(r["delivery_attempts"]),
        delivery_error=r["delivery_error"],
        delivered_at=d.opt_ts_out(r["delivered_at"]),
    )
