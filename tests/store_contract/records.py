"""Small records for the contract tests, built with readable defaults."""

from __future__ import annotations

from datetime import datetime, timedelta

from selfmodel.domain import (
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Evidence,
    EvidenceStance,
    Experiment,
    Job,
    JobKind,
    MirrorLink,
    Observation,
    ResonanceCard,
    TraceRecord,
    User,
    Variant,
    VariantConfig,
    Workspace,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.storage import QueueStore


def observation(
    user: User,
    content: str,
    external_id: str | None = None,
    minutes: int = 0,
    *,
    recorded_at: datetime | None = None,
) -> Observation:
    """An observation ``minutes`` from now (recorded then too, unless ``recorded_at``)."""
    at = utcnow() + timedelta(minutes=minutes)
    return Observation(
        id=new_id("obs"),
        workspace_id=user.workspace_id,
        user_id=user.id,
        content=content,
        occurred_at=at,
        recorded_at=recorded_at or at,
        external_id=external_id,
        metadata={"n": minutes},
    )


def belief(user: User, statement: str, **changes: object) -> Belief:
    now = utcnow()
    fields: dict[str, object] = {
        "id": new_id("bel"),
        "workspace_id": user.workspace_id,
        "user_id": user.id,
        "statement": statement,
        "kind": BeliefKind.PREFERENCE,
        "confidence": 0.7,
        "origin": BeliefOrigin.INFERRED,
        "status": BeliefStatus.ACTIVE,
        "created_at": now,
        "updated_at": now,
        "metadata": {"why": "test"},
    }
    fields.update(changes)
    return Belief.model_validate(fields)


def evidence(belief_id: str, observation_id: str, **changes: object) -> Evidence:
    fields: dict[str, object] = {
        "belief_id": belief_id,
        "observation_id": observation_id,
        "stance": EvidenceStance.SUPPORTS,
        "weight": 1.0,
        "created_at": utcnow(),
    }
    fields.update(changes)
    return Evidence.model_validate(fields)


def event(of: Belief, kind: BeliefEventType, seconds: int = 0) -> BeliefEvent:
    return BeliefEvent(
        id=new_id("evt"),
        workspace_id=of.workspace_id,
        user_id=of.user_id,
        belief_id=of.id,
        type=kind,
        at=utcnow() + timedelta(seconds=seconds),
        cause="test",
        confidence_after=0.5,
        details={"i": seconds},
    )


def trace(*users: User, query: str = "what to cook") -> TraceRecord:
    return TraceRecord(
        id=new_id("trc"),
        workspace_id=users[0].workspace_id,
        user_ids=tuple(u.id for u in users),
        query=query,
        created_at=utcnow(),
        latency_ms=12.5,
        config={"k": 1},
        payload={"chosen": ["x"]},
    )


def mirror_link(user: User, hours: int = 1) -> MirrorLink:
    return MirrorLink(
        id=new_id("mln"),
        workspace_id=user.workspace_id,
        user_id=user.id,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=hours),
    )


def card(user: User, statement: str = "I like tea", seconds: int = 0) -> ResonanceCard:
    return ResonanceCard(
        id=new_id("prm"),
        workspace_id=user.workspace_id,
        user_id=user.id,
        statement=statement,
        kind=BeliefKind.PREFERENCE,
        created_at=utcnow() + timedelta(seconds=seconds),
    )


def enqueue(queue: QueueStore, user: User, n: int = 1, max_attempts: int = 3) -> list[Job]:
    return [
        queue.enqueue_job(
            user.workspace_id,
            user.id,
            JobKind.UNDERSTAND,
            {"observation_ids": [f"obs_{i}"]},
            max_attempts=max_attempts,
        )
        for i in range(n)
    ]


def experiment(ws: Workspace, name: str = "pers", **fields: object) -> Experiment:
    values: dict[str, object] = {
        "id": new_id("exp"),
        "workspace_id": ws.id,
        "name": name,
        "variants": (
            Variant(name="off", config=VariantConfig(personalized=False)),
            Variant(
                name="words",
                weight=2.5,
                config=VariantConfig(ranking={"keyword_weight": 0.0, "strip_names": False}),
            ),
        ),
        "control": "off",
        "salt": "a1b2",
        "created_at": utcnow(),
        **fields,
    }
    return Experiment.model_validate(values)
