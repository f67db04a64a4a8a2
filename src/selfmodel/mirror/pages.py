"""The Mirror's pages: server-rendered HTML, plain forms and redirects (htmx only smooths them).

Every route resolves the visitor's session first and acts only on that person's rows: a belief or
card id of anyone else answers exactly like one that does not exist.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from selfmodel.config import MirrorSettings
from selfmodel.domain import BeliefKind
from selfmodel.engine import SelfModel
from selfmodel.errors import (
    InvalidInputError,
    MirrorAccessError,
    NotFoundError,
    PayloadTooLargeError,
    SelfModelError,
)
from selfmodel.mirror import views
from selfmodel.mirror.access import SESSION_COOKIE, MirrorSession, open_link, resume
from selfmodel.mirror.screens import (
    HomeQuery,
    all_beliefs,
    belief_values,
    home_values,
    owned_belief,
)
from selfmodel.mirror.tokens import Refusal

HERE = Path(__file__).parent
# Where the app mounts the pages; links minted through the API point here.
MIRROR_PATH = "/mirror"
STATIC_FILES = {
    "mirror.css": "text/css",
    "mirror.js": "text/javascript",
    "htmx.min.js": "text/javascript",
}
MAX_FORM_BYTES = 16_384
# What the Mirror calls the product when SELFMODEL_MIRROR_PRODUCT_NAME is unset.
DEFAULT_PRODUCT = "the app that sent you this link"
# A browser caches the static files for a day; they are small and change with releases only.
STATIC_MAX_AGE_S = 86_400
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
REFUSAL_PAGES: dict[str, tuple[int, str, str]] = {
    Refusal.EXPIRED: (410, "This link has expired", "Links to your Mirror work for a while only."),
    Refusal.REVOKED: (403, "This link no longer works", "It has been switched off."),
    Refusal.TAMPERED: (403, "This link cannot be trusted", "It does not match the one we sent."),
    Refusal.MALFORMED: (400, "This is not a working link", "Part of it may be missing."),
}

ModelProvider = Callable[[Request], SelfModel]
# The server's status for an error (logging the 5xx): the pages answer as the API does.
ErrorStatus = Callable[[SelfModelError], int]


def page_templates(folder: Path) -> Environment:
    """The HTML templates in ``folder``, autoescaped, with the date filters pages share
    (the Mirror's and the Inspector's)."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = lambda d: d.strftime("%-d %b %Y") if d else ""
    env.filters["when"] = lambda d: d.strftime("%-d %b %Y, %H:%M") if d else ""
    return env


class Pages:
    """Renders templates for pages under ``prefix``, sent with the security headers."""

    def __init__(self, env: Environment, prefix: str) -> None:
        self.env = env
        self.prefix = prefix

    def html(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = self.env.get_template(template).render(prefix=self.prefix, **values)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


class MirrorPages(Pages):
    """Renders pages and answers forms for one session; built per request by the router."""

    def refused(self, error: MirrorAccessError) -> HTMLResponse:
        reason = str(error.details.get("reason", Refusal.MALFORMED))
        status, title, hint = REFUSAL_PAGES.get(reason, REFUSAL_PAGES[Refusal.MALFORMED])
        response = self.html(
            "message.html", status, title=title, message=error.message, hint=hint, session=None
        )
        return response

    def back(self, notice: str, belief_id: str | None = None, page: str = "/") -> Response:
        query = {"notice": notice, **({"b": belief_id} if belief_id else {})}
        anchor = f"#{belief_id}" if belief_id else ""
        return RedirectResponse(
            f"{self.prefix}{page}?{urlencode(query)}{anchor}",
            status_code=303,
            headers=SECURITY_HEADERS,
        )


async def read_form(request: Request) -> dict[str, list[str]]:
    """A urlencoded form body, size-limited (no multipart: the Mirror never uploads files)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PayloadTooLargeError("this form is larger than the Mirror accepts")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError("this form could not be read") from exc


def field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def create_mirror_router(
    model_for: ModelProvider,
    answer_status: ErrorStatus,
    *,
    prefix: str = MIRROR_PATH,
    settings: MirrorSettings | None = None,
) -> APIRouter:
    """The Mirror's routes under ``prefix``; ``model_for(request)`` is the server's SelfModel,
    ``answer_status(error)`` the server's status for an error (``server.errors``)."""
    env = page_templates(HERE / "templates")
    pages = MirrorPages(env, prefix)
    product = (settings.mirror_product_name if settings else None) or DEFAULT_PRODUCT
    env.globals["product"] = product
    router = APIRouter(prefix=prefix, include_in_schema=False)

    def session_of(request: Request) -> MirrorSession:
        return resume(model_for(request), request.cookies.get(SESSION_COOKIE))

    async def guarded(request: Request, action: Callable[[MirrorSession], Response]) -> Response:
        """Run ``action`` for the visitor's session; errors become pages, never stack traces."""
        try:
            form = await read_form(request) if request.method == "POST" else {}
            # The engine blocks (SQLite, embeddings): keep it off the event loop.
            session = await run_in_threadpool(session_of, request)
            if request.method == "POST":
                session.check_csrf(field(form, "csrf"))
            request.state.form = form
            return await run_in_threadpool(action, session)
        except MirrorAccessError as exc:
            return pages.refused(exc)
        except NotFoundError as exc:
            return pages.html(
                "message.html",
                answer_status(exc),
                title="Not found",
                message=exc.message,
                hint="It may have been deleted.",
                session=None,
            )
        except SelfModelError as exc:
            # The API's status for the error (and its logging of 5xx), as a page.
            return pages.html(
                "message.html",
                answer_status(exc),
                title="That didn't work",
                message=exc.message,
                hint="Go back and try again.",
                session=None,
            )

    def form_of(request: Request) -> dict[str, list[str]]:
        form: dict[str, list[str]] = request.state.form
        return form

    @router.get("/open/{token}")
    def open_(request: Request, token: str) -> Response:
        try:
            session, cookie = open_link(model_for(request), token)
        except MirrorAccessError as exc:
            return pages.refused(exc)
        # A page (not a redirect) so the next request starts from our own site and the
        # SameSite=Strict cookie is sent with it, even when the link was opened from an email.
        response = pages.html("opening.html", session=None)
        session_cookie(request, response, SESSION_COOKIE, cookie, session.claims.expires_at, prefix)
        return response

    @router.get("/")
    async def home(request: Request) -> Response:
        query = HomeQuery.of(request)
        return await guarded(request, lambda s: pages.html("home.html", **home_values(s, query)))

    @router.get("/beliefs/{belief_id}")
    async def belief_page(request: Request, belief_id: str) -> Response:
        notice = request.query_params.get("notice", "")
        every = request.query_params.get("quotes") == "all"
        return await guarded(
            request,
            lambda s: pages.html(
                "belief.html", **belief_values(s, belief_id, notice, all_quotes=every)
            ),
        )

    @router.post("/beliefs/{belief_id}/check-in")
    async def check_in(request: Request, belief_id: str) -> Response:
        """ "Is this still you?" answered: a selection that supports the belief or ends it."""

        def act(session: MirrorSession) -> Response:
            answer = field(form_of(request), "answer")
            if answer not in ("yes", "no"):
                raise InvalidInputError("answer yes or no")
            owned_belief(session, belief_id)
            session.model.check_in(session.external_id, belief_id, holds=answer == "yes")
            return pages.back("still-you" if answer == "yes" else "outdated")

        return await guarded(request, act)

    def belief_action(name: str, notice: str) -> None:
        async def handler(request: Request, belief_id: str) -> Response:
            def act(session: MirrorSession) -> Response:
                owned_belief(session, belief_id)
                model = session.model
                if name == "confirm":
                    model.confirm(belief_id)
                elif name == "reject":
                    model.reject(belief_id)
                elif name == "outdated":
                    model.mark_outdated(belief_id)
                elif name == "edit":
                    model.edit(belief_id, field(form_of(request), "statement"))
                if field(form_of(request), "back") == "belief":
                    return pages.back(notice, page=f"/beliefs/{belief_id}")
                return pages.back(notice, belief_id)

            return await guarded(request, act)

        router.add_api_route(f"/beliefs/{{belief_id}}/{name}", handler, methods=["POST"])

    @router.post("/beliefs/{belief_id}/settle")
    async def settle(request: Request, belief_id: str) -> Response:
        """A conflict answered in one click: this belief is true now, the form's ``over`` ends."""

        def act(session: MirrorSession) -> Response:
            over = field(form_of(request), "over")
            if not over:
                raise InvalidInputError("say which of the two is no longer true")
            # Both must be this person's before anything changes: someone else's id is not found.
            owned_belief(session, belief_id)
            owned_belief(session, over)
            kept, _ = session.model.settle(belief_id, over)
            return pages.back("settled", kept.id)

        return await guarded(request, act)

    belief_action("confirm", "confirmed")
    belief_action("reject", "rejected")
    belief_action("outdated", "outdated")
    belief_action("edit", "edited")

    @router.post("/beliefs")
    async def add(request: Request) -> Response:
        def act(session: MirrorSession) -> Response:
            form = form_of(request)
            kind = field(form, "kind") or BeliefKind.FACT.value
            belief = session.model.add_belief(
                session.external_id, field(form, "statement"), kind=kind
            )
            return pages.back("added", belief.id)

        return await guarded(request, act)

    # /prompts: the old path, for a page loaded before the rename (it goes in the next minor).
    @router.post("/prompts")
    @router.post("/cards")
    async def answer(request: Request) -> Response:
        def act(session: MirrorSession) -> Response:
            form = form_of(request)
            selected = set(form.get("selected", []))
            shown = form.get("shown", [])
            answers = {cid: cid in selected for cid in shown}
            answered = session.model.answer_cards(session.external_id, answers)
            if not answered:
                return pages.back("nothing")
            return pages.back("answered" if any(c.selected for c in answered) else "dismissed")

        return await guarded(request, act)

    @router.get("/timeline")
    async def timeline_page(request: Request) -> Response:
        def act(session: MirrorSession) -> Response:
            details, names = all_beliefs(session)
            events = views.timeline(details, names)
            return pages.html("timeline.html", session=session, events=events)

        return await guarded(request, act)

    @router.get("/export")
    async def export(request: Request) -> Response:
        def act(session: MirrorSession) -> Response:
            data = session.model.export(session.external_id)
            filename = f"selfmodel-{_safe_name(session.external_id)}.json"
            return Response(
                json.dumps(data, indent=2, ensure_ascii=False),
                media_type="application/json",
                headers={**SECURITY_HEADERS, "Content-Disposition": attachment(filename)},
            )

        return await guarded(request, act)

    @router.get("/delete")
    async def delete_confirm(request: Request) -> Response:
        return await guarded(request, lambda s: pages.html("delete.html", session=s))

    @router.post("/delete")
    async def delete(request: Request) -> Response:
        def act(session: MirrorSession) -> Response:
            if field(form_of(request), "confirm") != "delete":
                return pages.html("delete.html", 422, session=session, missing=True)
            counts = session.model.forget(session.external_id)
            response = pages.html("deleted.html", session=None, total=counts.total)
            response.delete_cookie(SESSION_COOKIE, path=prefix)
            return response

        return await guarded(request, act)

    @router.post("/signout")
    async def signout(request: Request) -> Response:
        def act(session: MirrorSession) -> Response:
            response = pages.html(
                "message.html",
                title="You're signed out",
                message="Open your link again whenever you like.",
                hint="",
                session=None,
            )
            response.delete_cookie(SESSION_COOKIE, path=prefix)
            return response

        return await guarded(request, act)

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        return static_file(HERE / "static", STATIC_FILES, name)

    return router


def session_cookie(
    request: Request, response: Response, name: str, value: str, expires_at: int, path: str
) -> None:
    """Set a session cookie on ``response``: script cannot read it, no other site's request
    carries it, it lives until ``expires_at`` (unix seconds) and only under ``path``."""
    response.set_cookie(
        name,
        value,
        max_age=max(expires_at - int(time.time()), 1),
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def static_file(folder: Path, files: Mapping[str, str], name: str) -> Response:
    """``name`` from ``folder`` if ``files`` lists it (with its media type), else 404."""
    if name not in files:
        return Response(status_code=404)
    return FileResponse(
        folder / name,
        media_type=files[name],
        headers={
            "Cache-Control": f"public, max-age={STATIC_MAX_AGE_S}",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60] or "me"


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` that downloads as ``filename``, whatever its script.

    Header values are Latin-1 on the wire, so a name like "Zoë-李" cannot go in as it is
    (Starlette refuses it). RFC 6266: an ASCII ``filename`` for clients that know
    no better, and the exact name UTF-8 percent-encoded as ``filename*`` (RFC 5987), which
    every current browser prefers.
    """
    exact = quote(filename, safe="")
    return f"attachment; filename=\"{_ascii_name(filename)}\"; filename*=UTF-8''{exact}"


def _ascii_name(filename: str) -> str:
    # Accents come off ("ë" → "e"); what has no ASCII spelling ("李") becomes "_".
    decomposed = unicodedata.normalize("NFKD", filename)
    return "".join(
        c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
        for c in decomposed
        if not unicodedata.combining(c)
    )


__all__ = [
    "MIRROR_PATH",
    "SECURITY_HEADERS",
    "STATIC_MAX_AGE_S",
    "Pages",
    "create_mirror_router",
    "field",
    "page_templates",
    "read_form",
    "session_cookie",
    "static_file",
]
