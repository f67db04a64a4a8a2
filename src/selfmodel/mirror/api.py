"""The product's side of the Mirror, under the API's key auth: mint and revoke links, push cards.

``create_mirror_api_router(reader, writer)`` takes the server's own dependencies that resolve the
caller's workspace ``SelfModel`` for a read-scoped and a write-scoped key; routes only validate,
call the engine and shape the answer.
"""

# No ``from __future__ import annotations``: FastAPI must see the local ``Annotated`` types.
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from selfmodel.domain import BeliefKind, IssuedMirrorLink, ResonancePrompt
from selfmodel.engine import (
    MAX_MIRROR_LINK_TTL_S,
    MAX_PROMPT_SOURCE_CHARS,
    MAX_PROMPTS_PER_CALL,
    MAX_STATEMENT_CHARS,
    MIN_MIRROR_LINK_TTL_S,
    SelfModel,
)
from selfmodel.mirror.access import link_token

ModelDependency = Callable[..., SelfModel]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MirrorLinkRequest(_Body):
    ttl_s: int | None = Field(
        default=None,
        ge=MIN_MIRROR_LINK_TTL_S,
        le=MAX_MIRROR_LINK_TTL_S,
        description="How long the link works, in seconds (default: SELFMODEL_MIRROR_LINK_TTL_S).",
    )


class MirrorLinkOut(IssuedMirrorLink):
    user: str = Field(description="Your id of the user.")


class RevokedOut(BaseModel):
    revoked: int


class PromptIn(_Body):
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT_CHARS)
    kind: BeliefKind = BeliefKind.FACT


class PromptsRequest(_Body):
    statements: list[PromptIn] = Field(min_length=1, max_length=MAX_PROMPTS_PER_CALL)
    source: str | None = Field(default=None, max_length=MAX_PROMPT_SOURCE_CHARS)


class PromptOut(BaseModel):
    id: str
    workspace_id: str
    user_id: str
    statement: str
    kind: BeliefKind
    source: str | None
    created_at: datetime
    answered_at: datetime | None
    selected: bool | None
    belief_id: str | None
    observation_id: str | None

    @classmethod
    def of(cls, prompt: ResonancePrompt) -> "PromptOut":
        return cls(**prompt.model_dump())


class PromptsOut(BaseModel):
    prompts: list[PromptOut]


def create_mirror_api_router(
    reader: ModelDependency, writer: ModelDependency, *, mirror_prefix: str = "/mirror"
) -> APIRouter:
    """Routes to include under ``/v1`` with the API's auth dependencies."""
    router = APIRouter(tags=["mirror"])
    ReadModel = Annotated[SelfModel, Depends(reader)]
    WriteModel = Annotated[SelfModel, Depends(writer)]

    @router.post("/users/{user_id}/mirror-link", status_code=201, response_model=MirrorLinkOut)
    def mint_mirror_link(
        user_id: str, request: Request, model: WriteModel, body: MirrorLinkRequest | None = None
    ) -> Any:
        """Mint a signed, expiring link that opens this user's Mirror (and nothing else)."""
        link = model.create_mirror_link(user_id, ttl_s=body.ttl_s if body else None)
        path = f"{mirror_prefix}/open/{link_token(model, link)}"
        return MirrorLinkOut(
            **link.model_dump(),
            user=user_id,
            url=str(request.base_url).rstrip("/") + path,
            path=path,
        )

    @router.delete("/users/{user_id}/mirror-links/{link_id}", response_model=RevokedOut)
    def revoke_mirror_link(user_id: str, link_id: str, model: WriteModel) -> Any:
        """Switch one link off now; sessions opened with it end on their next request."""
        return RevokedOut(revoked=model.revoke_mirror_links(user_id, link_id))

    @router.delete("/users/{user_id}/mirror-links", response_model=RevokedOut)
    def revoke_all_mirror_links(user_id: str, model: WriteModel) -> Any:
        """Switch off every link of this user."""
        return RevokedOut(revoked=model.revoke_mirror_links(user_id))

    @router.post("/users/{user_id}/prompts", status_code=201, response_model=PromptsOut)
    def push_prompts(user_id: str, body: PromptsRequest, model: WriteModel) -> Any:
        """Offer candidate statements ("resonance cards") the user can select in the Mirror."""
        prompts = model.push_prompts(
            user_id,
            [{"statement": p.statement, "kind": p.kind} for p in body.statements],
            source=body.source,
        )
        return PromptsOut(prompts=[PromptOut.of(p) for p in prompts])

    @router.get("/users/{user_id}/prompts", response_model=PromptsOut)
    def list_prompts(
        user_id: str,
        model: ReadModel,
        open_only: Annotated[bool, Query(alias="open")] = False,
    ) -> Any:
        """The user's resonance cards and their answers, oldest first."""
        return PromptsOut(
            prompts=[PromptOut.of(p) for p in model.prompts(user_id, open_only=open_only)]
        )

    return router


__all__ = ["create_mirror_api_router"]
