"""Map an HTTP error answer back to the ``selfmodel.errors`` class the server raised."""

from __future__ import annotations

from typing import Any

from selfmodel import errors as e

# When the code is unknown to this (older) SDK, the status decides the class.
_BY_STATUS: dict[int, type[e.SelfModelError]] = {
    400: e.InvalidInputError,
    401: e.AuthenticationError,
    403: e.PermissionDeniedError,
    404: e.NotFoundError,
    409: e.ConflictError,
    413: e.PayloadTooLargeError,
    422: e.InvalidInputError,
    429: e.ServiceUnavailableError,
    502: e.ExternalServiceError,
    503: e.ServiceUnavailableError,
    504: e.WaitTimeoutError,
}


def _classes_by_code() -> dict[str, type[e.SelfModelError]]:
    found: dict[str, type[e.SelfModelError]] = {}
    pending: list[type[e.SelfModelError]] = [e.SelfModelError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_from_response(status: int, body: Any) -> e.SelfModelError:
    """The error an answer with ``status`` and JSON ``body`` stands for."""
    info = body.get("error") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        cls = _BY_STATUS.get(status, e.SelfModelError)
        return cls(f"HTTP {status} from the selfmodel server", status=status)
    code = str(info.get("code", ""))
    message = str(info.get("message", f"HTTP {status}"))
    raw = info.get("details")
    details: dict[str, Any] = raw if isinstance(raw, dict) else {}
    known = _classes_by_code()
    cls = (
        known.get(code)
        or known.get(e.RENAMED_CODES.get(code, ""))
        or _BY_STATUS.get(status, e.SelfModelError)
    )
    error = cls(message, **details)
    error.details = {**details, "status": status, "code": code}
    return error


__all__ = ["error_from_response"]
