"""``Idempotency-Key`` on writes: a retried request gets the first answer replayed, not redone.

The key is claimed (a row with status 0) before the work runs, so two concurrent requests with
one key cannot both run: the second gets 409 until the first finishes. The same key with a
different request (method, path or body) is 409 ``idempotency_conflict``. Only successful
answers are stored; after an error the reservation is dropped so the client may retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from selfmodel.errors import IdempotencyConflictError, InvalidInputError
from selfmodel.server.auth import Caller
from selfmodel.server.state import server_state

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY_CHARS = 255


async def run_write(
    request: Request,
    caller: Caller,
    work: Callable[[], Any],
    *,
    status_code: int = 200,
    user: str | None = None,
    kept: Callable[[Any], Any] | None = None,
    replayed: Callable[[Any], Any] | None = None,
) -> Response:
    """Run ``work`` (sync, in a thread) and answer JSON, honouring an ``Idempotency-Key``.

    The answer kept for replays is tied to the user it is about — ``user`` (the id in the path)
    or else the answer's own ``user_id`` — so forgetting the user deletes it. ``kept`` turns the
    JSON answer into what is stored, for answers holding what must never be stored (a new API
    key's secret, a Mirror link's token): a replay then gets that instead, or what ``replayed``
    rebuilds from it (a link's token is signed again rather than kept).
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return _json(await run_in_threadpool(work), status_code)
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidInputError(
            f"{IDEMPOTENCY_HEADER} must be 1–{MAX_IDEMPOTENCY_KEY_CHARS} characters",
            field=IDEMPOTENCY_HEADER,
        )
    state = server_state(request)
    tenancy, workspace = state.tenancy, caller.workspace
    request_hash = await _request_hash(request)
    ttl = timedelta(seconds=state.settings.idempotency_ttl_s)
    existing = await run_in_threadpool(
        tenancy.claim_idempotency_key, workspace, key, request_hash, ttl
    )
    if existing is not None:
        if existing.request_hash != request_hash:
            raise IdempotencyConflictError(
                f"{IDEMPOTENCY_HEADER} {key!r} was used for a different request"
            )
        if existing.status_code == 0:
            raise IdempotencyConflictError(
                f"a request with {IDEMPOTENCY_HEADER} {key!r} is still in progress"
            )
        body = existing.response
        if replayed is not None:
            rebuilt = await run_in_threadpool(replayed, json.loads(body))
            body = bytes(_json(rebuilt, existing.status_code).body).decode("utf-8")
        return Response(
            body,
            status_code=existing.status_code,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        result = await run_in_threadpool(work)
    except BaseException:
        await run_in_threadpool(tenancy.release_idempotency_key, workspace, key)
        raise
    response = _json(result, status_code)
    stored = _json(kept(jsonable_encoder(result)), status_code) if kept else response
    about = await run_in_threadpool(_user_id, caller, user, result)
    await run_in_threadpool(
        partial(tenancy.keep_answer, user_id=about),
        workspace,
        key,
        status_code,
        bytes(stored.body).decode("utf-8"),
    )
    return response


def _user_id(caller: Caller, user: str | None, result: Any) -> str | None:
    """The stored id of the user an answer is about, if any."""
    if user is not None:
        found = caller.sm.store.get_user(caller.workspace.id, user)
        return found.id if found else None
    # A belief (or a pair of them, as settling a conflict answers) names its user.
    for candidate in (result, *getattr(result, "__dict__", {}).values()):
        about = getattr(candidate, "user_id", None)
        if isinstance(about, str):
            return about
    return None


async def _request_hash(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.url.path.encode() + b"\0")
    digest.update(await request.body())
    return digest.hexdigest()


def _json(result: Any, status_code: int) -> JSONResponse:
    return JSONResponse(jsonable_encoder(result), status_code=status_code)


__all__ = ["IDEMPOTENCY_HEADER", "REPLAYED_HEADER", "run_write"]
