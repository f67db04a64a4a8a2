"""Privacy: personal data detection and the per-workspace policy applied before storage."""

from selfmodel.privacy.pii import (
    PiiFinding,
    PiiKind,
    PiiPolicy,
    RedactionResult,
    apply_policy,
    find_pii,
    redact,
)

__all__ = [
    "PiiFinding",
    "PiiKind",
    "PiiPolicy",
    "RedactionResult",
    "apply_policy",
    "find_pii",
    "redact",
]
