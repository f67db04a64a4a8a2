"""``TenancyStore``: workspaces (the tenants), their API keys, and idempotency records.

Every other concern is scoped by a workspace id; this one creates and finds the workspaces, and
keeps what the HTTP server needs to authenticate and to replay requests. ``selfmodel.tenancy``
is its one user.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any, Protocol

from selfmodel.domain import ApiKey, IdempotencyRecord, Workspace
from selfmodel.storage.database import Database


class TenancyStore(Database, Protocol):
    """Workspaces and their settings, API keys (stored by hash), idempotency records."""

    # -- workspaces --------------------------------------------------------------------------
    @abstractmethod
    def get_or_create_workspace(self, name: str) -> Workspace:
        """The workspace called ``name``; concurrent first callers all get the same one."""

    @abstractmethod
    def get_workspace(self, name: str) -> Workspace | None: ...

    @abstractmethod
    def list_workspaces(self) -> list[Workspace]:
        """Every workspace, by name."""

    @abstractmethod
    def update_workspace_settings(self, workspace_id: str, settings: dict[str, Any]) -> Workspace:
        """Replace the workspace's settings; raises ``StorageError`` if it does not exist."""

    # -- API keys ----------------------------------------------------------------------------
    @abstractmethod
    def insert_api_key(self, key: ApiKey, secret_hash: str) -> None: ...

    @abstractmethod
    def find_api_key(self, secret_hash: str) -> tuple[ApiKey, Workspace] | None:
        """The key with this hash and its workspace (revoked keys included: the caller checks)."""

    @abstractmethod
    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        """The workspace's keys, oldest first."""

    @abstractmethod
    def revoke_api_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKey | None:
        """Revoke (idempotently: the first revocation time is kept); None if no such key."""

    @abstractmethod
    def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record that the key was used at ``at`` (a later use already stored is kept)."""

    # -- idempotency records -----------------------------------------------------------------
    @abstractmethod
    def reserve_idempotency_key(
        self, workspace_id: str, key: str, request_hash: str, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim ``key`` for a new request; returns the existing record instead if there is one.

        A record created before ``expired_before`` is dropped first and the key claimed afresh.
        """

    @abstractmethod
    def complete_idempotency_key(
        self,
        workspace_id: str,
        key: str,
        status_code: int,
        response: str,
        *,
        user_id: str | None = None,
    ) -> None:
        """Store the answer to a reserved key, to be replayed for repeats. ``user_id`` is the user
        the answer is about: forgetting the user deletes it."""

    @abstractmethod
    def release_idempotency_key(self, workspace_id: str, key: str) -> None:
        """Drop a reservation whose request failed, so the client may retry it."""
