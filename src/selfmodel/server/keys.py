"""Workspace API keys: minting, hashing, scopes. Pure logic on a ``Store``; no HTTP here.

A key is ``smk_`` + 43 url-safe characters (32 random bytes). Only its SHA-256 is stored: a key
has 256 bits of entropy, so a fast hash is enough (slow password hashes guard low-entropy
secrets) and lookup is one indexed equality. The full key is shown once, when it is minted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from selfmodel.domain import Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.errors import ConflictError, InvalidInputError, WorkspaceNotFoundError
from selfmodel.storage.base import ApiKey, Store

KEY_PREFIX = "smk_"
SECRET_BYTES = 32
# Characters of the key kept in clear (in listings) so people can tell their keys apart.
SHOWN_PREFIX_CHARS = 12
MAX_WORKSPACE_NAME_CHARS = 100
MAX_KEY_NAME_CHARS = 100


class Scope(StrEnum):
    """What a key may do. Each scope includes the ones before it."""

    READ = "read"  # list, get, context (which records a trace), export
    WRITE = "write"  # observe, confirm/reject/edit, forget
    ADMIN = "admin"  # manage the workspace's keys and settings

    @property
    def rank(self) -> int:
        return list(Scope).index(self)

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


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


def create_workspace(store: Store, name: str) -> Workspace:
    """A new workspace; refuses a name that exists (so a typo never reuses someone's tenant)."""
    name = name.strip()
    if not name or len(name) > MAX_WORKSPACE_NAME_CHARS:
        raise InvalidInputError(
            f"workspace name must be 1–{MAX_WORKSPACE_NAME_CHARS} characters", field="name"
        )
    with store.transaction():
        if store.get_workspace(name) is not None:
            raise ConflictError(f"workspace {name!r} already exists", workspace=name)
        return store.get_or_create_workspace(name)


def mint_key(
    store: Store, workspace: Workspace, scope: Scope, name: str | None = None
) -> MintedKey:
    """Create and store a key for ``workspace``; the returned secret is not stored anywhere."""
    if name is not None and len(name) > MAX_KEY_NAME_CHARS:
        raise InvalidInputError(f"key name is longer than {MAX_KEY_NAME_CHARS} characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    record = ApiKey(
        id=new_id("key"),
        workspace_id=workspace.id,
        name=name,
        prefix=secret[:SHOWN_PREFIX_CHARS],
        scope=scope.value,
        created_at=utcnow(),
    )
    store.insert_api_key(record, hash_secret(secret))
    return MintedKey(record=record, secret=secret)


def mint_key_for(
    store: Store, workspace_name: str, scope: Scope, name: str | None = None
) -> MintedKey:
    """``mint_key`` for a workspace named by the CLI user; it must exist."""
    workspace = store.get_workspace(workspace_name)
    if workspace is None:
        raise WorkspaceNotFoundError(
            f"no workspace {workspace_name!r}; create it with `selfmodel workspace create`"
        )
    return mint_key(store, workspace, scope, name)


__all__ = [
    "KEY_PREFIX",
    "MintedKey",
    "Scope",
    "create_workspace",
    "hash_secret",
    "mint_key",
    "mint_key_for",
    "parse_scope",
]
