"""Who may open the Inspector: a workspace admin API key, exchanged for a session cookie.

The cookie is signed as the Mirror's are (``selfmodel.mirror.tokens``, under its own purpose, so
neither can stand for the other) and names the key it was opened with. Every request finds that
key again: revoking it, or the workspace's deletion, ends open sessions at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from selfmodel.domain import ApiKey, Scope
from selfmodel.engine import SelfModel
from selfmodel.errors import PermissionDeniedError
from selfmodel.mirror.access import CSRF_BYTES, SESSION_TTL_S, check_csrf, verified
from selfmodel.mirror.tokens import OperatorClaims, Purpose, Refusal, refused, sign
from selfmodel.tenancy import Tenancy

SESSION_COOKIE = "selfmodel_inspector"
# The sign-in form's own CSRF token (double submit): no one else's page can sign a browser in.
SIGN_IN_COOKIE = "selfmodel_inspector_sign_in"
SIGN_IN_TTL_S = 3_600


@dataclass(frozen=True)
class OperatorSession:
    """A signed-in operator: the engine bound to the key's workspace, and that key."""

    model: SelfModel
    key: ApiKey
    claims: OperatorClaims

    @property
    def csrf(self) -> str:
        return self.claims.csrf

    def check_csrf(self, given: str | None) -> None:
        """Refuse a form that does not echo this session's CSRF token."""
        check_csrf(self.csrf, given)


def new_csrf() -> str:
    return secrets.token_urlsafe(CSRF_BYTES)


def sign_in(base: SelfModel, tenancy: Tenancy, secret: str) -> tuple[OperatorSession, str]:
    """Exchange an admin key's secret for a session; returns it and its cookie value.

    Raises:
        AuthenticationError: the key is unknown or revoked.
        PermissionDeniedError: the key is not an admin key.
    """
    key, workspace = tenancy.find_key(secret.strip())
    if key.scope is not Scope.ADMIN:
        raise PermissionDeniedError(
            f"this key has scope {key.scope.value!r}; the Inspector opens with an admin key",
            needed=Scope.ADMIN.value,
            scope=key.scope.value,
        )
    tenancy.record_use(key)
    model = base.for_workspace(workspace)
    claims = OperatorClaims(
        workspace=workspace.name,
        workspace_id=workspace.id,
        key_id=key.id,
        expires_at=int(datetime.now(UTC).timestamp()) + SESSION_TTL_S,
        csrf=new_csrf(),
    )
    cookie = sign(model.mirror_secret(), Purpose.OPERATOR, claims)
    return OperatorSession(model, key, claims), cookie


def resume(base: SelfModel, tenancy: Tenancy, cookie: str | None) -> OperatorSession:
    """The session a cookie stands for, if it and its key are still good; raises
    ``MirrorAccessError`` (``reason`` says why) otherwise."""
    if not cookie:
        raise refused(Refusal.MALFORMED, "sign in with an admin API key")
    model, claims = verified(base, Purpose.OPERATOR, cookie, OperatorClaims)
    key = next((k for k in tenancy.keys(model.workspace) if k.id == claims.key_id), None)
    if key is None or key.revoked_at is not None or key.scope is not Scope.ADMIN:
        raise refused(Refusal.REVOKED, "the key this session was opened with has been revoked")
    tenancy.record_use(key)
    return OperatorSession(model, key, claims)


__all__ = [
    "SESSION_COOKIE",
    "SIGN_IN_COOKIE",
    "SIGN_IN_TTL_S",
    "OperatorSession",
    "new_csrf",
    "resume",
    "sign_in",
]
