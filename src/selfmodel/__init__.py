"""selfmodel: a persistent, inspectable self-model for every user of an AI product.

from selfmodel import SelfModel

with SelfModel.open("selfmodel.db") as sm:
    sm.observe("ada", "I'm training for the Berlin marathon in April.")
    print(sm.context("ada", "what is she working towards?").text)

The names below are imported on first use (PEP 562), so ``import selfmodel.client`` loads the
domain types and errors and not the engine, its models or its numeric libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from selfmodel.extras import install_hint

__version__ = "0.1.0"

# Where each public name lives; imported when first asked for.
_HOMES: dict[str, str] = {
    "SelfModel": "selfmodel.engine",
    "Settings": "selfmodel.config",
    "Message": "selfmodel.domain",
    **dict.fromkeys(
        (
            "Alert",
            "AlertKind",
            "AlertStatus",
            "Belief",
            "BeliefDetail",
            "BeliefEvent",
            "BeliefEventType",
            "BeliefKind",
            "BeliefOrigin",
            "BeliefStatus",
            "ContextItem",
            "ContextResult",
            "Evidence",
            "EvidenceDetail",
            "EvidenceStance",
            "Assignment",
            "Experiment",
            "ExperimentStatus",
            "Observation",
            "ObservationKind",
            "ObserveResult",
            "Outcome",
            "OutcomeKind",
            "Role",
            "User",
            "Variant",
            "VariantConfig",
            "Workspace",
        ),
        "selfmodel.domain",
    ),
    **dict.fromkeys(
        ("AuditRecord", "RetentionPolicy", "RetentionReport"), "selfmodel.domain.retention"
    ),
    **dict.fromkeys(
        (
            "AlertNotFoundError",
            "BeliefNotFoundError",
            "ConfigurationError",
            "ConflictError",
            "ExperimentNotFoundError",
            "ExternalServiceError",
            "InvalidFileError",
            "InvalidInputError",
            "InvalidPolicyError",
            "NotFoundError",
            "PayloadTooLargeError",
            "PolicyViolationError",
            "ReplayUnavailableError",
            "SchemaTooNewError",
            "SelfModelError",
            "StorageError",
            "TraceNotFoundError",
            "UserNotFoundError",
            "WorkspaceNotFoundError",
        ),
        "selfmodel.errors",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'selfmodel' has no attribute {name!r}")
    try:
        value = getattr(import_module(home), name)
    except ModuleNotFoundError as exc:
        hint = install_hint(exc, f"selfmodel.{name}")
        if hint is None:
            raise
        # An ImportError still, so `try: from selfmodel import SelfModel` patterns keep working.
        raise ImportError(f"{hint}; the HTTP client, selfmodel.client, works without it") from exc
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


if TYPE_CHECKING:
    from selfmodel.config import Settings
    from selfmodel.domain import (
        Alert,
        AlertKind,
        AlertStatus,
        Assignment,
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
        Experiment,
        ExperimentStatus,
        Message,
        Observation,
        ObservationKind,
        ObserveResult,
        Outcome,
        OutcomeKind,
        Role,
        User,
        Variant,
        VariantConfig,
        Workspace,
    )
    from selfmodel.domain.retention import AuditRecord, RetentionPolicy, RetentionReport
    from selfmodel.engine import SelfModel
    from selfmodel.errors import (
        AlertNotFoundError,
        BeliefNotFoundError,
        ConfigurationError,
        ConflictError,
        ExperimentNotFoundError,
        ExternalServiceError,
        InvalidFileError,
        InvalidInputError,
        InvalidPolicyError,
        NotFoundError,
        PayloadTooLargeError,
        PolicyViolationError,
        ReplayUnavailableError,
        SchemaTooNewError,
        SelfModelError,
        StorageError,
        TraceNotFoundError,
        UserNotFoundError,
        WorkspaceNotFoundError,
    )

__all__ = [
    "Alert",
    "AlertKind",
    "AlertNotFoundError",
    "AlertStatus",
    "Assignment",
    "AuditRecord",
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
    "Experiment",
    "ExperimentNotFoundError",
    "ExperimentStatus",
    "ExternalServiceError",
    "InvalidFileError",
    "InvalidInputError",
    "InvalidPolicyError",
    "Message",
    "NotFoundError",
    "Observation",
    "ObservationKind",
    "ObserveResult",
    "Outcome",
    "OutcomeKind",
    "PayloadTooLargeError",
    "PolicyViolationError",
    "ReplayUnavailableError",
    "RetentionPolicy",
    "RetentionReport",
    "Role",
    "SchemaTooNewError",
    "SelfModel",
    "SelfModelError",
    "Settings",
    "StorageError",
    "TraceNotFoundError",
    "User",
    "UserNotFoundError",
    "Variant",
    "VariantConfig",
    "Workspace",
    "WorkspaceNotFoundError",
    "__version__",
]
