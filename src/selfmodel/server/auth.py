"""``Authorization: Bearer <key>``: who is calling, in which workspace, with which scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from selfmodel.domain import ApiKey, Scope, Workspace
from selfmodel.engine import SelfModel
from selfmodel.errors import PermissionDeniedError
from selfmodel.server.state import server_state

bearer = HTTPBearer(
    auto_error=False,
    description="A workspace API key (`selfmodel key create`), as `Authorization: Bearer smk_…`.",
)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: their key and the engine bound to their workspace."""

    key: ApiKey
    sm: SelfModel

    @property
    def scope(self) -> Scope:
        return self.key.scope

    @property
    def workspace(self) -> Workspace:
        return self.sm.workspace


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """Resolve the bearer key to its workspace; every query afterwards is bound to it.

    One read (the key joined with its workspace) and no write: the use of the key is noted in
    memory and written later, off the request path (``Tenancy.flush_key_usage``).
    """
    state = server_state(request)
    key, workspace = state.tenancy.find_key(credentials.credentials if credentials else "")
    state.tenancy.record_use(key)
    request.state.workspace_id = workspace.id
    return Caller(key=key, sm=state.engine.for_workspace(workspace))


def require(needed: Scope) -> Callable[..., Caller]:
    """A dependency that lets through keys whose scope includes ``needed``.

    One function authenticates and checks the scope: FastAPI runs each plain dependency on a
    worker thread, and a hop there and back costs more than the check.
    """

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = authenticate(request, credentials)
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
