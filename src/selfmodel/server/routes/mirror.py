"""The product's side of the Mirror: mint and revoke a user's links, push, list and answer cards.

The pages the person opens with a link are the Mirror's own (``selfmodel.mirror``, under
``/mirror``); these routes are the product backend's, under key auth like every other resource.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.domain import MirrorLink
from selfmodel.mirror import MIRROR_PATH
from selfmodel.mirror.access import link_token
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.routes import IdPath, UserPath, v1_router
from selfmodel.server.schemas import (
    AnsweredOut,
    AnswersIn,
    CardsIn,
    CardsOut,
    MirrorLinkIn,
    MirrorLinkOut,
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
    base_url = (caller.sm.settings.server.public_url or str(request.base_url)).rstrip("/")

    def answer(link: MirrorLink) -> MirrorLinkOut:
        path = f"{MIRROR_PATH}/open/{link_token(caller.sm, link)}"
        return MirrorLinkOut(**link.model_dump(), user=user, url=base_url + path, path=path)

    # The token opens the person's Mirror: it is never stored, not even for a replay, which
    # signs the same link's token again.
    return await run_write(
        request,
        caller,
        lambda: answer(caller.sm.create_mirror_link(user, ttl_s=body.ttl_s if body else None)),
        status_code=201,
        user=user,
        kept=lambda out: {**out, "url": None, "path": None},
        replayed=lambda out: answer(caller.sm.mirror_link(out["id"])),
    )


@router.delete("/users/{user}/mirror-links/{link_id}", response_model=RevokedOut)
async def revoke_mirror_link(
    user: UserPath, link_id: IdPath, request: Request, caller: Writer
) -> Response:
    """Switch one link off now; sessions opened with it end on their next request."""
    return await run_write(
        request,
        caller,
        lambda: RevokedOut(revoked=caller.sm.revoke_mirror_links(user, link_id)),
        user=user,
    )


@router.delete("/users/{user}/mirror-links", response_model=RevokedOut)
async def revoke_all_mirror_links(user: UserPath, request: Request, caller: Writer) -> Response:
    """Switch off every link of this user."""
    return await run_write(
        request, caller, lambda: RevokedOut(revoked=caller.sm.revoke_mirror_links(user)), user=user
    )


def _old_path(method: str, path: str) -> str:
    return (
        f"Deprecated: the old path of `{method} /v1{path}`, answering the same (it goes in the "
        "next minor release)."
    )


# The cards' old paths (/prompts) stay mounted for one release on the same handlers, marked
# deprecated in the OpenAPI schema; their answers carry the list as `prompts` too.
@router.post(
    "/users/{user}/prompts",
    status_code=201,
    response_model=CardsOut,
    deprecated=True,
    description=_old_path("POST", "/users/{user}/cards"),
)
@router.post("/users/{user}/cards", status_code=201, response_model=CardsOut)
async def push_cards(user: UserPath, body: CardsIn, request: Request, caller: Writer) -> Response:
    """Offer candidate statements ("resonance cards") the user can select in the Mirror."""

    def work() -> CardsOut:
        cards = caller.sm.push_cards(
            user,
            [{"statement": c.statement, "kind": c.kind} for c in body.statements],
            source=body.source,
        )
        return CardsOut.of(cards)

    return await run_write(request, caller, work, status_code=201, user=user)


@router.get(
    "/users/{user}/prompts",
    response_model=CardsOut,
    deprecated=True,
    description=_old_path("GET", "/users/{user}/cards"),
)
@router.get("/users/{user}/cards", response_model=CardsOut)
def list_cards(
    user: UserPath,
    caller: Reader,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> CardsOut:
    """The user's resonance cards and their answers, oldest first."""
    return CardsOut.of(caller.sm.cards(user, open_only=open_only))


@router.post(
    "/users/{user}/prompts/answers",
    response_model=AnsweredOut,
    deprecated=True,
    description=_old_path("POST", "/users/{user}/cards/answers"),
)
@router.post("/users/{user}/cards/answers", response_model=AnsweredOut)
async def answer_cards(
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
        lambda: AnsweredOut.of(caller.sm.answer_cards(user, body.answers)),
        user=user,
    )
