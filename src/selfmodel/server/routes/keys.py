"""The workspace's API keys: list, create (the key is shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.domain import ApiKey
from selfmodel.server.auth import Admin
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import IdPath, v1_router
from selfmodel.server.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    KeyCreatedOut,
    KeyIn,
    KeyOut,
    Page,
)
from selfmodel.server.state import server_state

router = v1_router("keys")


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scope=key.scope,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


@router.get("/keys", response_model=Page[KeyOut])
def list_keys(
    request: Request,
    caller: Admin,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[KeyOut]:
    """The workspace's keys, oldest first (secrets are never shown again)."""
    keys = server_state(request).tenancy.keys(caller.workspace)
    chunk, next_cursor = page(keys, lambda k: k.id, cursor=cursor, limit=limit)
    return Page[KeyOut](items=[key_out(k) for k in chunk], next_cursor=next_cursor)


@router.post("/keys", response_model=KeyCreatedOut, status_code=201)
async def create_key(body: KeyIn, request: Request, caller: Admin) -> Response:
    """A new key for this workspace. The full key is in this answer only: a retry under the same
    ``Idempotency-Key`` answers the same key with ``key`` null, since secrets are never stored."""
    tenancy = server_state(request).tenancy

    def work() -> KeyCreatedOut:
        minted = tenancy.mint_key(caller.workspace, body.scope, body.name)
        return KeyCreatedOut(**key_out(minted.record).model_dump(), key=minted.secret)

    # The secret is never stored, not even for replays: a retry under the same Idempotency-Key
    # answers the same key without it ("key": null).
    return await run_write(
        request, caller, work, status_code=201, kept=lambda body: {**body, "key": None}
    )


@router.delete("/keys/{key_id}", response_model=KeyOut)
async def revoke_key(key_id: IdPath, request: Request, caller: Admin) -> Response:
    """Revoke a key: it stops working at once. Revoking twice is harmless."""
    tenancy = server_state(request).tenancy
    return await run_write(
        request, caller, lambda: key_out(tenancy.revoke_key(caller.workspace, key_id))
    )
