"""selfmodel: a persistent, inspectable self-model for every user of an AI product.

from selfmodel import SelfModel

with SelfModel.open("selfmodel.db") as sm:
    sm.observe("ada", "I'm training for the Berlin marathon in April.")
    print(sm.context("ada", "what is she working towards?").text)
"""

from selfmodel.config import Settings
from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    ContextItem,
    ContextResult,
    Evidence,
    EvidenceDetail,
    EvidenceStance,
    Observation,
    ObservationKind,
    ObserveResult,
    Role,
    User,
    Workspace,
)
from selfmodel.engine import SelfModel
from selfmodel.errors import (
    BeliefNotFoundError,
    ConfigurationError,
    ConflictError,
    ExternalServiceError,
    InvalidFileError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PolicyViolationError,
    SchemaTooNewError,
    SelfModelError,
    StorageError,
    TraceNotFoundError,
    UserNotFoundError,
    WorkspaceNotFoundError,
)
from selfmodel.ingest import Message

__version__ = "0.1.0"

__all__ = [
    "Belief",
    "BeliefDetail",
    "BeliefEvent",
    "BeliefEventType",
    "BeliefKind",
    "BeliefNotFoundError",
    "BeliefOrigin",
    "BeliefStatus",
    "ConfigurationError",
    "ConflictError",
    "ContextItem",
    "ContextResult",
    "Evidence",
    "EvidenceDetail",
    "EvidenceStance",
    "ExternalServiceError",
    "InvalidFileError",
    "InvalidInputError",
    "Message",
    "NotFoundError",
    "Observation",
    "ObservationKind",
    "ObserveResult",
    "PayloadTooLargeError",
    "PolicyViolationError",
    "Role",
    "SchemaTooNewError",
    "SelfModel",
    "SelfModelError",
    "Settings",
    "StorageError",
    "TraceNotFoundError",
    "User",
    "UserNotFoundError",
    "Workspace",
    "WorkspaceNotFoundError",
    "__version__",
]
