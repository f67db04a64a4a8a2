"""Answers to resonance cards, for a product that shows the cards in its own interface.

Pushing and listing cards are Mirror routes (``selfmodel.mirror.api``); the Mirror's own page
records answers through the same engine call as this route.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from selfmodel.server.auth import Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.routes import UserPath, v1_router
from selfmodel.server.schemas import AnsweredOut, AnswersIn

router = v1_router("mirror")


@router.post("/users/{user}/prompts/answers", response_model=AnsweredOut)
async def answer_prompts(
    user: UserPath, body: AnswersIn, request: Request, caller: Writer
) -> Response:
    """Record which cards the user selected; a selection is explicit evidence.

    A selected card becomes an observation of kind ``selection`` that creates or reinforces the
    belief it states; one left unselected is recorded and changes no belief. Cards answered
    before stay as they are. Answers the cards this call answered.
    """
    return await run_write(
        request,
        caller,
        lambda: AnsweredOut(prompts=caller.sm.answer_prompts(user, body.answers)),
    )
