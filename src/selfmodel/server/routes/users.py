"""Users of the workspace, known by the product's own ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.domain import User
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import UserPath, v1_router
from selfmodel.server.schemas import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, UserIn

router = v1_router("users")


@router.get("/users", response_model=Page[User])
def list_users(
    caller: Reader,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[User]:
    """Users in order of their external id."""
    chunk, next_cursor = page(
        caller.sm.users(), lambda u: u.external_id, cursor=cursor, limit=limit
    )
    return Page[User](items=chunk, next_cursor=next_cursor)


@router.get("/users/{user}", response_model=User)
def get_user(user: UserPath, caller: Reader) -> User:
    return caller.sm.user(user)


@router.patch("/users/{user}", response_model=User)
async def update_user(user: UserPath, body: UserIn, request: Request, caller: Writer) -> Response:
    """How statements, context blocks and the Mirror name the user (null: "the user")."""
    return await run_write(
        request, caller, lambda: caller.sm.set_display_name(user, body.display_name), user=user
    )
