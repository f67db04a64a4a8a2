"""The domain model: what selfmodel knows about people, independent of storage and transport."""

from selfmodel.domain.ids import new_id
from selfmodel.domain.jobs import Job, JobKind, JobRun, JobStatus, RunOutcome
from selfmodel.domain.messages import Message, MessagesInput
from selfmodel.domain.mirror import IssuedMirrorLink, MirrorLink, ResonancePrompt
from selfmodel.domain.models import (
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefFrame,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Context,
    Evidence,
    EvidenceStance,
    Facet,
    Observation,
    ObservationKind,
    Occasion,
    Related,
    Role,
    User,
    Workspace,
)
from selfmodel.domain.records import DeletedCounts, TraceRecord
from selfmodel.domain.results import (
    BeliefDetail,
    ContextItem,
    ContextResult,
    EvidenceDetail,
    ObserveResult,
)
from selfmodel.domain.tenancy import ApiKey, IdempotencyRecord, Scope

__all__ = [
    "ApiKey",
    "Belief",
    "BeliefDetail",
    "BeliefEvent",
    "BeliefEventType",
    "BeliefFrame",
    "BeliefKind",
    "BeliefOrigin",
    "BeliefStatus",
    "Context",
    "ContextItem",
    "ContextResult",
    "DeletedCounts",
    "Evidence",
    "EvidenceDetail",
    "EvidenceStance",
    "Facet",
    "IdempotencyRecord",
    "IssuedMirrorLink",
    "Job",
    "JobKind",
    "JobRun",
    "JobStatus",
    "Message",
    "MessagesInput",
    "MirrorLink",
    "Observation",
    "ObservationKind",
    "ObserveResult",
    "Occasion",
    "Related",
    "ResonancePrompt",
    "Role",
    "RunOutcome",
    "Scope",
    "TraceRecord",
    "User",
    "Workspace",
    "new_id",
]
