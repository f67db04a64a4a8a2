"""One hierarchy for every error selfmodel raises on purpose.

Each error carries a stable machine-readable ``code``; the HTTP layer maps classes to status codes
in one place, the CLI prints ``message`` on one line and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any


class SelfModelError(Exception):
    """Base class: anything selfmodel raises deliberately."""

    code = "selfmodel_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInputError(SelfModelError):
    """The caller passed something malformed: empty text, a bad timestamp, an unknown kind."""

    code = "invalid_input"


class PayloadTooLargeError(InvalidInputError):
    """A message or a batch is larger than the configured limit."""

    code = "payload_too_large"


class InvalidFileError(InvalidInputError):
    """A file is not in the format it claims to be (or any format we read)."""

    code = "invalid_file"


class InvalidPolicyError(InvalidInputError):
    """A retention policy value is out of bounds, of the wrong type, or names no policy."""

    code = "invalid_policy"


class NotFoundError(SelfModelError):
    """Something the caller named does not exist (in the caller's workspace)."""

    code = "not_found"


class UserNotFoundError(NotFoundError):
    code = "user_not_found"


class BeliefNotFoundError(NotFoundError):
    code = "belief_not_found"


class TraceNotFoundError(NotFoundError):
    code = "trace_not_found"


class WorkspaceNotFoundError(NotFoundError):
    code = "workspace_not_found"


class EvalRunNotFoundError(NotFoundError):
    code = "eval_run_not_found"


class ExperimentNotFoundError(NotFoundError):
    code = "experiment_not_found"


class AlertNotFoundError(NotFoundError):
    code = "alert_not_found"


class CardNotFoundError(NotFoundError):
    """No such resonance card for this user. The code was ``prompt_not_found`` before."""

    code = "card_not_found"


class MirrorLinkNotFoundError(NotFoundError):
    code = "mirror_link_not_found"


class ConflictError(SelfModelError):
    """The request conflicts with the current state (e.g. editing a rejected belief)."""

    code = "conflict"


class IncomparableRunsError(InvalidInputError):
    """Two eval runs scored different data (suite or dataset hash): pairing them means nothing."""

    code = "invalid_comparison"


class PolicyViolationError(SelfModelError):
    """The workspace's privacy policy refuses this input (e.g. PII with policy ``reject``)."""

    code = "policy_violation"


class StorageError(SelfModelError):
    """The store cannot be used as asked."""

    code = "storage_error"


class SchemaTooNewError(StorageError):
    """The database was written by a newer selfmodel; opening it could corrupt it."""

    code = "schema_too_new"


class ConfigurationError(SelfModelError):
    """A setting is missing or inconsistent (e.g. an LLM extractor without a base URL)."""

    code = "configuration_error"


class ExternalServiceError(SelfModelError):
    """An external endpoint (LLM, embeddings) failed after retries."""

    code = "external_service_error"


class LeaseLostError(StorageError):
    """A worker tried to finish a job whose lease it no longer holds (another worker took it)."""

    code = "lease_lost"


class JobFailedError(SelfModelError):
    """Background work for the caller's observations failed for good (the job is dead)."""

    code = "job_failed"


class WaitTimeoutError(SelfModelError):
    """The self-model did not reflect the observations within the time asked for."""

    code = "wait_timeout"


class AuthenticationError(SelfModelError):
    """No API key, or a key that is unknown or revoked."""

    code = "unauthorized"


class PermissionDeniedError(SelfModelError):
    """The API key is valid but its scope does not allow this action."""

    code = "forbidden"


class MirrorAccessError(PermissionDeniedError):
    """A Mirror link or session is expired, revoked, tampered with, or for someone else."""

    code = "mirror_access_denied"


class IdempotencyConflictError(ConflictError):
    """An ``Idempotency-Key`` was reused with a different request (or is still in flight)."""

    code = "idempotency_conflict"


class ReplayUnavailableError(ConflictError):
    """The trace cannot be read back as it was: it was recorded before traces kept the model
    version they read, or names no such user."""

    code = "replay_unavailable"


class ServiceUnavailableError(SelfModelError):
    """The server cannot answer now (not ready, overloaded, unreachable); retrying may help."""

    code = "service_unavailable"


def validation_message(error: Mapping[str, Any]) -> str:
    """What one of pydantic's validation errors (an item of ``ValidationError.errors()``) says:
    for a ``ValueError`` of our own validators, our words without the "Value error, " pydantic
    puts before them."""
    message = str(error.get("msg", ""))
    if error.get("type") == "value_error":
        return message.removeprefix("Value error, ")
    return message


# Old names, importable for one release (selfmodel.deprecation).
_RENAMED = {"PromptNotFoundError": "CardNotFoundError"}
# Codes renamed with their class: the SDK reads an old server's code as the new class.
RENAMED_CODES = {"prompt_not_found": CardNotFoundError.code}


def __getattr__(name: str) -> Any:
    from selfmodel.deprecation import renamed_attribute

    return renamed_attribute(__name__, name, _RENAMED, globals())


if TYPE_CHECKING:
    PromptNotFoundError = CardNotFoundError
