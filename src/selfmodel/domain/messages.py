"""What a caller hands ``observe``: one message or event, before it becomes an ``Observation``.

Checked against the engine's limits by ``selfmodel.ingest.messages.parse_messages``; defined here
so that the SDK accepts exactly the same input without importing the ingestion code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from selfmodel.domain.models import ObservationKind, Role
from selfmodel.domain.text import check_text
from selfmodel.domain.time import parse_timestamp

MAX_EXTERNAL_ID_CHARS = 200
# The ``metadata`` key naming whom a message is said to (another person in the conversation):
# extraction writes "you" and that person's nicknames as their name (docs/extraction.md).
ADDRESSEE = "addressee"


class Message(BaseModel):
    """One thing that was said or happened. ``content`` is required; everything else optional."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content: str
    role: Role = Role.USER
    speaker: str | None = None
    occurred_at: datetime | None = None
    # As the API has it: an empty id would be one id for every message that sends it.
    id: str | None = Field(default=None, min_length=1, max_length=MAX_EXTERNAL_ID_CHARS)
    kind: ObservationKind = ObservationKind.MESSAGE
    source: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        if value is None or isinstance(value, datetime):
            return value
        return parse_timestamp(value, field="occurred_at")

    @field_validator("content", "speaker", "id", "source", "metadata")
    @classmethod
    def _storable_text(cls, value: Any, info: ValidationInfo) -> Any:
        check_text(value, str(info.field_name))
        return value

    @field_validator("metadata")
    @classmethod
    def _addressee_is_a_name(cls, value: dict[str, Any]) -> dict[str, Any]:
        addressee = value.get(ADDRESSEE)
        if addressee is not None and (not isinstance(addressee, str) or not addressee.strip()):
            raise ValueError(
                f"metadata.{ADDRESSEE} names whom the message is said to: a non-empty string "
                f'such as "Jon", not {addressee!r}'
            )
        return value


MessagesInput = str | Message | Mapping[str, Any] | Sequence[str | Message | Mapping[str, Any]]
