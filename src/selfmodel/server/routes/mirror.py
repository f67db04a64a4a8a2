"""The product's side of the Mirror: mint and revoke a user's links, push, list and answer cards.

The pages the person opens with a link are the Mirror's own (``selfmodel.mirror``, under
``/mirror``); these routes are the product backend's, under key auth like every other resource.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.mirror import MIRROR_PATH
from selfmodel.mirror.access import link_token
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.routes import IdPath, UserPath, v1_router
from selfmodel.server.schemas import (
    AnsweredOut,
    AnswersIn,
    MirrorLinkIn,
    MirrorLinkOut,
    PromptsIn,
    PromptsOut,
    RevokedOut,
)

router = v1_router("mirror")


@router.post("/users/{user}/mirror-link", status_code=201, response_model=MirrorLinkOut)
async def mint_mirror_link(
    user: UserPath, request: Request, caller: Writer, body: MirrorLinkIn | None = None
) -> Response:
    """Mint a signed, expiring link that opens this user's Mirror (and nothing else).

    Under an ``Idempotency-Key`` a retry answers the same link instead of minting another.
    """
    base_url = str(request.base_url).rstrip("/")

    def work() -> MirrorLinkOut:
        link = caller.sm.create_mirror_link(user, ttl_s=body.ttl_s if body else None)
        path = f"{MIRROR_PATH}/open/{link_token(caller.sm, link)}"
        return MirrorLinkOut(**link.model_dump(), user=user, url=base_url + path, path=path)

    return await run_write(request, caller, work, status_code=201)


@router.delete("/users/{user}/mirror-links/{link_id}", response_model=RevokedOut)
async def revoke_mirror_link(
    user: UserPath, link_id: IdPath, request: Request, caller: Writer
) -> Response:
    """Switch one link off now; sessions opened with it end on their next request."""
    return await run_write(
        request, caller, lambda: RevokedOut(revoked=caller.sm.revoke_mirror_links(user, link_id))
    )


@router.delete("/users/{user}/mirror-links", response_model=RevokedOut)
async def revoke_all_mirror_links(user: UserPath, request: Request, caller: Writer) -> Response:
    """Switch off every link of this user."""
    return await run_write(
        request, caller, lambda: RevokedOut(revoked=caller.sm.revoke_mirror_links(user))
    )


@router.post("/users/{user}/prompts", status_code=201, response_model=PromptsOut)
async def push_prompts(
    user: UserPath, body: PromptsIn, request: Request, caller: Writer
) -> Response:
    """Offer candidate statements ("resonance cards") the user can select in the Mirror."""

    def work() -> PromptsOut:
        prompts = caller.sm.push_prompts(
            user,
            [{"statement": p.statement, "kind": p.kind} for p in body.statements],
            source=body.source,
        )
        return PromptsOut(prompts=prompts)

    return await run_write(request, caller, work, status_code=201)


@router.get("/users/{user}/prompts", response_model=PromptsOut)
def list_prompts(
    user: UserPath,
    caller: Reader,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> PromptsOut:
    """The user's resonance cards and their answers, oldest first."""
    return PromptsOut(prompts=caller.sm.prompts(user, open_only=open_only))


@router.post("/users/{user}/prompts/answers", response_model=AnsweredOut)
async def answer_prompts(
    user: UserPath, body: AnswersIn, request: Request, caller: Writer
) -> Response:
    """Record which cards the user selected, for a product that shows the cards itself.

    A selected card becomes an observation of kind ``selection`` that creates or reinforces the
    belief it states; one left unselected is recorded and changes no belief. Cards answered
    before stay as they are. Answers the cards this call answered. The Mirror's own page records
    answers through the same engine call.
    """
    return await run_write(
        request,
        caller,
        lambda: AnsweredOut(prompts=caller.sm.answer_prompts(user, body.answers)),
    )
