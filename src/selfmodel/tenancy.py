"""Tenancy: workspaces, their API keys and idempotency records, for the CLI and the server alike.

A key is ``smk_`` + 43 url-safe characters (32 random bytes). Only its SHA-256 is stored: a key
has 256 bits of entropy, so a fast hash is enough (slow password hashes guard low-entropy
secrets) and lookup is one indexed equality. The full key is shown once, when it is minted.

Finding a key is a read and nothing else. When a key was last used is kept in memory and
written later, in one batch, by ``flush_key_usage`` (the server calls it periodically, off the
request path, and when it stops): a request never writes to say that it happened.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from selfmodel.domain import ApiKey, IdempotencyRecord, Scope, Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    WorkspaceNotFoundError,
)
from selfmodel.storage import TenancyStore

KEY_PREFIX = "smk_"
SECRET_BYTES = 32
# Characters of the key kept in clear (in listings) so people can tell their keys apart.
SHOWN_PREFIX_CHARS = 12
MAX_WORKSPACE_NAME_CHARS = 100
MAX_KEY_NAME_CHARS = 100


@dataclass(frozen=True)
class MintedKey:
    """A new key: the record stored, and the secret shown to its owner exactly once."""

    record: ApiKey
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scope(value: str) -> Scope:
    try:
        return Scope(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Scope)
        raise InvalidInputError(
            f"scope {value!r} is not one of: {allowed}", field="scope"
        ) from None


class Tenancy:
    """The workspaces, keys and idempotency records of one store.

    Thread-safe; one per process (the key usage it holds in memory is this process's).
    """

    def __init__(self, store: TenancyStore) -> None:
        self._store = store
        self._usage_lock = threading.Lock()
        self._last_used: dict[str, datetime] = {}  # key id -> latest use not yet written

    # -- workspaces --------------------------------------------------------------------------
    def create_workspace(self, name: str) -> Workspace:
        """A new workspace; refuses a name that exists (so a typo never reuses someone's tenant)."""
        name = name.strip()
        if not name or len(name) > MAX_WORKSPACE_NAME_CHARS:
            raise InvalidInputError(
                f"workspace name must be 1–{MAX_WORKSPACE_NAME_CHARS} characters", field="name"
            )
        store = self._store
        with store.transaction():
            if store.get_workspace(name) is not None:
                raise ConflictError(f"workspace {name!r} already exists", workspace=name)
            return store.get_or_create_workspace(name)

    def workspace(self, name: str) -> Workspace:
        """The workspace called ``name``; it must exist."""
        found = self._store.get_workspace(name)
        if found is None:
            raise WorkspaceNotFoundError(
                f"no workspace {name!r}; create it with `selfmodel workspace create`"
            )
        return found

    def workspaces(self) -> list[Workspace]:
        return self._store.list_workspaces()

    # -- API keys ----------------------------------------------------------------------------
    def mint_key(self, workspace: Workspace, scope: Scope, name: str | None = None) -> MintedKey:
        """Create and store a key for ``workspace``; the returned secret is not stored anywhere."""
        if name is not None and len(name) > MAX_KEY_NAME_CHARS:
            raise InvalidInputError(f"key name is longer than {MAX_KEY_NAME_CHARS} characters")
        secret = KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        record = ApiKey(
            id=new_id("key"),
            workspace_id=workspace.id,
            name=name,
            prefix=secret[:SHOWN_PREFIX_CHARS],
            scope=scope,
            created_at=utcnow(),
        )
        self._store.insert_api_key(record, hash_secret(secret))
        return MintedKey(record=record, secret=secret)

    def keys(self, workspace: Workspace) -> list[ApiKey]:
        """The workspace's keys, oldest first, with this process's uses not yet written."""
        with self._usage_lock:
            pending = dict(self._last_used)
        return [_used(k, pending.get(k.id)) for k in self._store.list_api_keys(workspace.id)]

    def revoke_key(self, workspace: Workspace, key_id: str) -> ApiKey:
        """Revoke a key of ``workspace`` now; revoking twice keeps the first time."""
        revoked = self._store.revoke_api_key(workspace.id, key_id, utcnow())
        if revoked is None:
            raise NotFoundError(f"no API key {key_id!r} in workspace {workspace.name!r}")
        return revoked

    def find_key(self, secret: str) -> tuple[ApiKey, Workspace]:
        """The live key with this secret and its workspace. Reads only.

        Raises:
            AuthenticationError: the secret is empty, unknown, or its key was revoked.
        """
        if not secret:
            raise AuthenticationError("missing API key: send `Authorization: Bearer <key>`")
        found = self._store.find_api_key(hash_secret(secret))
        if found is None:
            raise AuthenticationError("unknown API key")
        key, workspace = found
        if key.revoked_at is not None:
            raise AuthenticationError("this API key has been revoked")
        return key, workspace

    def record_use(self, key: ApiKey, at: datetime | None = None) -> None:
        """Remember that ``key`` was used (in memory; ``flush_key_usage`` writes it)."""
        at = at or utcnow()
        with self._usage_lock:
            known = self._last_used.get(key.id)
            if known is None or known < at:
                self._last_used[key.id] = at

    def flush_key_usage(self) -> int:
        """Write the remembered uses in one transaction; returns how many keys were written.

        A use older than the stored one does not move it back (other processes write too).
        If the write fails, the uses are kept for the next flush and the error is raised.
        """
        with self._usage_lock:
            pending, self._last_used = self._last_used, {}
        if not pending:
            return 0
        try:
            with self._store.transaction():
                for key_id, at in sorted(pending.items()):
                    self._store.touch_api_key(key_id, at)
        except BaseException:
            with self._usage_lock:
                for key_id, at in pending.items():
                    known = self._last_used.get(key_id)
                    if known is None or known < at:
                        self._last_used[key_id] = at
            raise
        return len(pending)

    # -- idempotency records -----------------------------------------------------------------
    def claim_idempotency_key(
        self, workspace: Workspace, key: str, request_hash: str, ttl: timedelta
    ) -> IdempotencyRecord | None:
        """Claim ``key`` for a new request (None), or the record of the request that has it.

        A record older than ``ttl`` no longer counts: the key is claimed afresh.
        """
        return self._store.reserve_idempotency_key(
            workspace.id, key, request_hash, expired_before=utcnow() - ttl
        )

    def keep_answer(
        self,
        workspace: Workspace,
        key: str,
        status_code: int,
        body: str,
        *,
        user_id: str | None = None,
    ) -> None:
        """Store the answer to a claimed key, to be replayed for repeats; ``user_id`` is the
        user it is about (forgetting them deletes it)."""
        self._store.complete_idempotency_key(workspace.id, key, status_code, body, user_id=user_id)

    def release_idempotency_key(self, workspace: Workspace, key: str) -> None:
        """Drop the claim of a request that failed, so the client may retry it."""
        self._store.release_idempotency_key(workspace.id, key)


def _used(key: ApiKey, pending: datetime | None) -> ApiKey:
    if pending is None or (key.last_used_at is not None and key.last_used_at >= pending):
        return key
    return key.model_copy(update={"last_used_at": pending})


__all__ = [
    "KEY_PREFIX",
    "MAX_KEY_NAME_CHARS",
    "MAX_WORKSPACE_NAME_CHARS",
    "MintedKey",
    "Scope",
    "Tenancy",
    "hash_secret",
    "parse_scope",
]
