"""Records of tenancy: what an API key may do, the key as stored, and answered idempotent writes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Scope(StrEnum):
    """What a key may do. Each scope includes the ones before it."""

    READ = "read"  # list, get, context (which records a trace), export
    WRITE = "write"  # observe, confirm/reject/edit, forget, Mirror links and cards
    ADMIN = "admin"  # manage the workspace's keys and settings

    @property
    def rank(self) -> int:
        return list(Scope).index(self)

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


class ApiKey(_Record):
    """A workspace API key as stored: never the secret, only its hash (kept out of this record)."""

    id: str
    workspace_id: str
    prefix: str  # the first characters of the key, shown in listings to tell keys apart
    scope: Scope
    created_at: datetime
    name: str | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class IdempotencyRecord(_Record):
    """A write already answered under an ``Idempotency-Key``; ``status_code`` 0 means in flight."""

    key: str
    request_hash: str
    status_code: int
    response: str  # the JSON body sent back
    created_at: datetime
