"""Timestamps: everything is timezone-aware UTC inside selfmodel."""

from __future__ import annotations

from datetime import UTC, date, datetime

from selfmodel.errors import InvalidInputError


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timestamp(value: str | datetime | date, *, field: str = "timestamp") -> datetime:
    """Accept a datetime, a date, or an ISO 8601 string; anything else is a clear input error."""
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            return to_utc(datetime.fromisoformat(text))
        except ValueError:
            pass
    raise InvalidInputError(
        f"{field} {value!r} is not a valid ISO 8601 timestamp (e.g. 2024-05-08T13:56:00Z)",
        field=field,
    )


def to_storage(value: datetime) -> str:
    # Fixed width (isoformat pads years to four digits; strftime("%Y") does not on every
    # platform), so stored timestamps sort as text exactly as they do as times.
    return to_utc(value).isoformat(timespec="microseconds")


def from_storage(value: str) -> datetime:
    return datetime.fromisoformat(value)


def human_date(value: datetime) -> str:
    """``8 May 2023``: how dates appear in context blocks and statements."""
    return f"{value.day} {value.strftime('%B %Y')}"
