"""``Authorization: Bearer <key>``: who is calling, in which workspace, with which scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from selfmodel.domain.time import utcnow
from selfmodel.engine import SelfModel
from selfmodel.errors import AuthenticationError, PermissionDeniedError
from selfmodel.server.keys import Scope, hash_secret
from selfmodel.server.state import server_state
from selfmodel.storage.base import ApiKey

# last_used_at is written at most this often per key, so reads do not become writes.
TOUCH_INTERVAL = timedelta(seconds=60)

bearer = HTTPBearer(
    auto_error=False,
    description="A workspace API key (`selfmodel key create`), as `Authorization: Bearer smk_…`.",
)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: their key and the engine bound to their workspace."""

    key: ApiKey
    scope: Scope
    sm: SelfModel


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """Resolve the bearer key to its workspace; every query afterwards is bound to it."""
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("missing API key: send `Authorization: Bearer <key>`")
    state = server_state(request)
    store = state.engine.store
    found = store.find_api_key(hash_secret(credentials.credentials))
    if found is None:
        raise AuthenticationError("unknown API key")
    key, workspace = found
    if key.revoked_at is not None:
        raise AuthenticationError("this API key has been revoked")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_INTERVAL:
        store.touch_api_key(key.id, now)
    request.state.workspace_id = workspace.id
    return Caller(key=key, scope=Scope(key.scope), sm=state.engine.in_workspace(workspace.name))


def require(needed: Scope) -> Callable[[Caller], Caller]:
    """A dependency that lets through keys whose scope includes ``needed``."""

    def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if not caller.scope.allows(needed):
            raise PermissionDeniedError(
                f"this key has scope {caller.scope.value!r}; {needed.value!r} is needed",
                needed=needed.value,
                scope=caller.scope.value,
            )
        return caller

    return check


Reader = Annotated[Caller, Depends(require(Scope.READ))]
Writer = Annotated[Caller, Depends(require(Scope.WRITE))]
Admin = Annotated[Caller, Depends(require(Scope.ADMIN))]

__all__ = ["Admin", "Caller", "Reader", "Writer", "authenticate", "require"]
