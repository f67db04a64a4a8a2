"""The caller's workspace: who am I, and its settings."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from selfmodel.domain import Workspace
from selfmodel.server.auth import Admin, Reader
from selfmodel.server.idempotency import run_write
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import WorkspaceOut, WorkspaceSettingsIn

router = v1_router("workspaces")


def _out(ws: Workspace) -> WorkspaceOut:
    return WorkspaceOut(id=ws.id, name=ws.name, created_at=ws.created_at, settings=ws.settings)


@router.get("/workspace", response_model=WorkspaceOut)
def get_workspace(caller: Reader) -> WorkspaceOut:
    """The workspace the API key belongs to."""
    return _out(caller.sm.workspace)


@router.patch("/workspace/settings", response_model=WorkspaceOut)
async def update_settings(body: WorkspaceSettingsIn, request: Request, caller: Admin) -> Response:
    """Change workspace settings (the PII policy: redact, keep or reject)."""

    def work() -> WorkspaceOut:
        caller.sm.set_pii_policy(body.pii_policy)
        return _out(caller.sm.workspace)

    return await run_write(request, caller, work)
