"""The domain model: what selfmodel knows about people, independent of storage and transport."""

from selfmodel.domain.ids import new_id
from selfmodel.domain.jobs import Job, JobKind, JobRun, JobStatus, RunOutcome
from selfmodel.domain.mirror import MirrorLink, ResonancePrompt
from selfmodel.domain.models import (
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Context,
    Evidence,
    EvidenceStance,
    Observation,
    ObservationKind,
    Role,
    User,
    Workspace,
)
from selfmodel.domain.results import (
    BeliefDetail,
    ContextItem,
    ContextResult,
    EvidenceDetail,
    ObserveResult,
)

__all__ = [
    "Belief",
    "BeliefDetail",
    "BeliefEvent",
    "BeliefEventType",
    "BeliefKind",
    "BeliefOrigin",
    "BeliefStatus",
    "Context",
    "ContextItem",
    "ContextResult",
    "Evidence",
    "EvidenceDetail",
    "EvidenceStance",
    "Job",
    "JobKind",
    "JobRun",
    "JobStatus",
    "MirrorLink",
    "Observation",
    "ObservationKind",
    "ObserveResult",
    "ResonancePrompt",
    "Role",
    "RunOutcome",
    "User",
    "Workspace",
    "new_id",
]
