"""The Inspector's pages: server-rendered HTML and plain forms, no script at all.

The machinery is the Mirror's: its signed cookies (under the Inspector's own purpose), CSRF
rule, form reader, security headers and error pages. Every route resolves the operator's session
first; a page of another workspace's user, trace or item answers 404 like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

from selfmodel.audit.page import STYLESHEET as AUDIT_STYLESHEET
from selfmodel.engine import SelfModel
from selfmodel.errors import (
    AuthenticationError,
    InvalidInputError,
    MirrorAccessError,
    NotFoundError,
    PermissionDeniedError,
    SelfModelError,
)
from selfmodel.inspector import screens, views
from selfmodel.inspector.access import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_TTL_S,
    OperatorSession,
    new_csrf,
    resume,
    sign_in,
)
from selfmodel.mirror.access import check_csrf
from selfmodel.mirror.pages import (
    SECURITY_HEADERS,
    STATIC_MAX_AGE_S,
    Pages,
    field,
    page_templates,
    read_form,
    session_cookie,
    static_file,
)
from selfmodel.mirror.tokens import Refusal
from selfmodel.tenancy import Tenancy

HERE = Path(__file__).parent
INSPECTOR_PATH = "/inspector"
STATIC_FILES = {"inspector.css": "text/css"}
# The audit page's stylesheet is the audit's own (``selfmodel.audit.page``), served from code so
# the Inspector's page and ``selfmodel audit --out`` cannot drift apart.
AUDIT_CSS = "audit.css"
# Why the sign-in page is shown again, by the refusal of the session that ended.
ENDED = {
    Refusal.EXPIRED.value: "Your session has expired: sign in again.",
    Refusal.REVOKED.value: "Your session has ended (its key was revoked): sign in again.",
    Refusal.TAMPERED.value: "Your session could not be read: sign in again.",
    "signed-out": "You are signed out.",
}

ModelProvider = Callable[[Request], SelfModel]
TenancyProvider = Callable[[Request], Tenancy]
ErrorStatus = Callable[[SelfModelError], int]
Form = dict[str, list[str]]
Action = Callable[[OperatorSession, Form], Response]


def _templates() -> Environment:
    env = page_templates(HERE / "templates")
    # Calls a second apart are told apart.
    env.filters["when"] = lambda d: d.strftime("%-d %b %Y, %H:%M:%S") if d else ""
    env.filters["num"] = views.number
    return env


class InspectorPages(Pages):
    """Renders the Inspector's pages: messages, the sign-in form, redirects."""

    def message(
        self, status: int, title: str, message: str, session: OperatorSession | None = None
    ) -> HTMLResponse:
        return self.html("message.html", status, title=title, message=message, session=session)

    def sign_in(
        self, status: int = 200, *, error: str = "", notice: str = "", next_: str = ""
    ) -> Response:
        """The sign-in form, with a fresh CSRF token in it and in its cookie (double submit)."""
        token = new_csrf()
        response = self.html(
            "sign_in.html", status, csrf=token, error=error, notice=notice, next=next_
        )
        response.set_cookie(
            SIGN_IN_COOKIE,
            token,
            max_age=SIGN_IN_TTL_S,
            path=self.prefix,
            httponly=True,
            samesite="strict",
        )
        return response

    def redirect(self, path: str) -> Response:
        return RedirectResponse(f"{self.prefix}{path}", status_code=303, headers=SECURITY_HEADERS)


def create_inspector_router(
    model_for: ModelProvider,
    tenancy_for: TenancyProvider,
    answer_status: ErrorStatus,
    *,
    prefix: str = INSPECTOR_PATH,
) -> APIRouter:
    """The Inspector's routes under ``prefix``: ``model_for(request)`` is the server's SelfModel,
    ``tenancy_for(request)`` its keys, ``answer_status(error)`` its status for an error."""
    pages = InspectorPages(_templates(), prefix)
    router = APIRouter(prefix=prefix, include_in_schema=False)

    def local(path: str) -> str:
        """``path`` if it is a page of the Inspector (where to go after signing in), else ''."""
        inside = path.startswith(f"{prefix}/") and not path.startswith("//") and "\\" not in path
        return path if inside and len(path) < 2_000 else ""

    async def guarded(request: Request, action: Action) -> Response:
        """Run ``action`` for the operator's session; errors become pages, never stack traces."""
        try:
            form: Form = await read_form(request) if request.method == "POST" else {}
        except SelfModelError as exc:
            return pages.message(answer_status(exc), "That form could not be read", exc.message)
        try:
            session = await run_in_threadpool(
                resume,
                model_for(request),
                tenancy_for(request),
                request.cookies.get(SESSION_COOKIE),
            )
        except MirrorAccessError as exc:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                query = {"next": target, "ended": str(exc.details.get("reason", ""))}
                if not request.cookies.get(SESSION_COOKIE):
                    query.pop("ended")
                return pages.redirect(f"/sign-in?{urlencode(query)}")
            return pages.message(401, "Sign in first", "This needs an Inspector session.")
        if request.method == "POST":
            try:
                session.check_csrf(field(form, "csrf"))
            except MirrorAccessError:
                return pages.message(
                    403,
                    "This form has expired",
                    "It did not carry this session's token: reload the page and try again.",
                    session,
                )
        try:
            return await run_in_threadpool(action, session, form)
        except NotFoundError as exc:
            return pages.message(answer_status(exc), "Not found", exc.message, session)
        except SelfModelError as exc:
            return pages.message(answer_status(exc), "That didn't work", exc.message, session)

    def page(template: str, gather: Callable[[OperatorSession], dict[str, Any]]) -> Action:
        return lambda session, _form: pages.html(template, session=session, **gather(session))

    # -- signing in and out ------------------------------------------------------------------
    @router.get("/sign-in")
    def sign_in_page(request: Request) -> Response:
        ended = request.query_params.get("ended", "")
        return pages.sign_in(
            notice=ENDED.get(ended, ""), next_=local(request.query_params.get("next", ""))
        )

    @router.post("/sign-in")
    async def sign_in_form(request: Request) -> Response:
        try:
            form = await read_form(request)
            check_csrf(request.cookies.get(SIGN_IN_COOKIE, ""), field(form, "csrf"))
        except MirrorAccessError:
            return pages.sign_in(403, error="This form has expired: try again.")
        except SelfModelError as exc:
            return pages.sign_in(answer_status(exc), error=exc.message)
        after = local(field(form, "next"))
        try:
            session, cookie = await run_in_threadpool(
                sign_in, model_for(request), tenancy_for(request), field(form, "key")
            )
        except (AuthenticationError, PermissionDeniedError) as exc:
            error = (
                exc.message
                if isinstance(exc, PermissionDeniedError)
                else "That key is not a live API key of any workspace here."
            )
            return pages.sign_in(answer_status(exc), error=error, next_=after)
        response = RedirectResponse(
            after or f"{prefix}/", status_code=303, headers=SECURITY_HEADERS
        )
        session_cookie(request, response, SESSION_COOKIE, cookie, session.claims.expires_at, prefix)
        response.delete_cookie(SIGN_IN_COOKIE, path=prefix)
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        def act(session: OperatorSession, form: Form) -> Response:
            response = pages.redirect("/sign-in?ended=signed-out")
            response.delete_cookie(SESSION_COOKIE, path=prefix)
            return response

        return await guarded(request, act)

    # -- users and their self-models ---------------------------------------------------------
    @router.get("/")
    async def users(request: Request) -> Response:
        params = request.query_params
        return await guarded(
            request,
            page(
                "users.html",
                lambda s: screens.users_values(s, params.get("q", ""), params.get("after", "")),
            ),
        )

    @router.get("/users/{user:path}")
    async def user(request: Request, user: str) -> Response:
        every = request.query_params.get("beliefs") == "all"
        return await guarded(
            request, page("user.html", lambda s: screens.user_values(s, user, every))
        )

    @router.get("/traces")
    async def traces(request: Request) -> Response:
        params = request.query_params
        return await guarded(
            request,
            page(
                "traces.html",
                lambda s: screens.traces_values(
                    s, params.get("user", ""), params.get("before", "")
                ),
            ),
        )

    # -- one trace: its items, why not X?, replay, lineage ----------------------------------
    @router.get("/traces/{trace_id}")
    async def trace(request: Request, trace_id: str) -> Response:
        return await guarded(
            request, page("trace.html", lambda s: screens.trace_values(s, trace_id))
        )

    @router.get("/traces/{trace_id}/why-not")
    async def why_not(request: Request, trace_id: str) -> Response:
        item = request.query_params.get("item", "")
        return await guarded(
            request, page("why_not.html", lambda s: screens.why_not_values(s, trace_id, item))
        )

    @router.get("/traces/{trace_id}/replay")
    async def replay_form(request: Request, trace_id: str) -> Response:
        params = dict(request.query_params)
        return await guarded(
            request,
            page("replay.html", lambda s: screens.replay_form_values(s, trace_id, params)),
        )

    @router.post("/traces/{trace_id}/replay")
    async def replay(request: Request, trace_id: str) -> Response:
        def act(session: OperatorSession, form: Form) -> Response:
            try:
                values = screens.replay_values(session, trace_id, form)
            except InvalidInputError as exc:
                # The editor again, as typed, with what was wrong with it.
                values = screens.replay_error_values(session, trace_id, form, exc.message)
                return pages.html("replay.html", answer_status(exc), session=session, **values)
            return pages.html("replay.html", session=session, **values)

        return await guarded(request, act)

    @router.get("/traces/{trace_id}/lineage/{item_id}")
    async def lineage(request: Request, trace_id: str, item_id: str) -> Response:
        return await guarded(
            request,
            page("lineage.html", lambda s: screens.lineage_values(s, trace_id, item_id)),
        )

    # -- the audit of the workspace (docs/audit.md) ------------------------------------------
    @router.get("/audit")
    async def audit(request: Request) -> Response:
        since = request.query_params.get("since", "")

        def act(session: OperatorSession, form: Form) -> Response:
            try:
                values = screens.audit_values(session, since, prefix)
            except InvalidInputError as exc:
                # The window's form again, with what was wrong with it; nothing too long echoed.
                shown = since if len(since) <= screens.MAX_SINCE_CHARS else ""
                return pages.html(
                    "audit.html",
                    answer_status(exc),
                    session=session,
                    error=exc.message,
                    since=shown,
                    nav="audit",
                )
            return pages.html("audit.html", session=session, **values)

        return await guarded(request, act)

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        if name == AUDIT_CSS:
            return Response(
                AUDIT_STYLESHEET,
                media_type="text/css",
                headers={
                    "Cache-Control": f"public, max-age={STATIC_MAX_AGE_S}",
                    "X-Content-Type-Options": "nosniff",
                },
            )
        return static_file(HERE / "static", STATIC_FILES, name)

    return router


__all__ = ["INSPECTOR_PATH", "create_inspector_router"]
