"""The domain model: what selfmodel knows about people, independent of storage and transport."""

from typing import TYPE_CHECKING, Any

from selfmodel.domain.alerts import Alert, AlertKind, AlertStatus, Delivery
from selfmodel.domain.debugging import (
    BeliefAsOf,
    Lineage,
    ModelAsOf,
    ReplayResult,
    Verdict,
    WhyNot,
)
from selfmodel.domain.evaluation import EvalItemScore, EvalRun
from selfmodel.domain.experiments import (
    Assignment,
    Experiment,
    ExperimentStatus,
    Exposure,
    Variant,
    VariantConfig,
)
from selfmodel.domain.ids import new_id
from selfmodel.domain.jobs import Job, JobKind, JobRun, JobStatus, RunOutcome
from selfmodel.domain.messages import Message, MessagesInput
from selfmodel.domain.mirror import IssuedMirrorLink, MirrorLink, ResonanceCard
from selfmodel.domain.models import (
    Area,
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefFrame,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
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
from selfmodel.domain.outcomes import Outcome, OutcomeKind
from selfmodel.domain.records import DeletedCounts, TraceRecord
from selfmodel.domain.results import (
    BeliefDetail,
    BeliefUses,
    ContextItem,
    ContextResult,
    EvidenceDetail,
    ObserveResult,
)
from selfmodel.domain.tenancy import ApiKey, IdempotencyRecord, Scope

# Old names, importable for one release (selfmodel.deprecation).
_RENAMED = {"Context": "Area", "ResonancePrompt": "ResonanceCard"}


def __getattr__(name: str) -> Any:
    from selfmodel.deprecation import renamed_attribute

    return renamed_attribute(__name__, name, _RENAMED, globals())


if TYPE_CHECKING:
    Context = Area
    ResonancePrompt = ResonanceCard


__all__ = [
    "Alert",
    "AlertKind",
    "AlertStatus",
    "ApiKey",
    "Area",
    "Assignment",
    "Belief",
    "BeliefAsOf",
    "BeliefDetail",
    "BeliefEvent",
    "BeliefEventType",
    "BeliefFrame",
    "BeliefKind",
    "BeliefOrigin",
    "BeliefStatus",
    "BeliefUses",
    "ContextItem",
    "ContextResult",
    "DeletedCounts",
    "Delivery",
    "EvalItemScore",
    "EvalRun",
    "Evidence",
    "EvidenceDetail",
    "EvidenceStance",
    "Experiment",
    "ExperimentStatus",
    "Exposure",
    "Facet",
    "IdempotencyRecord",
    "IssuedMirrorLink",
    "Job",
    "JobKind",
    "JobRun",
    "JobStatus",
    "Lineage",
    "Message",
    "MessagesInput",
    "MirrorLink",
    "ModelAsOf",
    "Observation",
    "ObservationKind",
    "ObserveResult",
    "Occasion",
    "Outcome",
    "OutcomeKind",
    "Related",
    "ReplayResult",
    "ResonanceCard",
    "Role",
    "RunOutcome",
    "Scope",
    "TraceRecord",
    "User",
    "Variant",
    "VariantConfig",
    "Verdict",
    "WhyNot",
    "Workspace",
    "new_id",
]
