"""Who may see which Mirror: minting links, exchanging them for sessions, checking every request.

A link opens one person's Mirror and nothing else. Every request re-checks the session against
the link's row, so revoking the link (or deleting the person) ends open sessions immediately.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from selfmodel.domain import MirrorLink, User
from selfmodel.engine import SelfModel
from selfmodel.errors import (
    MirrorLinkNotFoundError,
    UserNotFoundError,
    WorkspaceNotFoundError,
)
from selfmodel.mirror.tokens import (
    AnyClaims,
    Claims,
    Purpose,
    Refusal,
    refused,
    sign,
    signing_workspace,
    verify,
)

SESSION_COOKIE = "selfmodel_mirror"
# A session outlives the page it started on but not the day: reopening the link starts another.
SESSION_TTL_S = 8 * 3_600
CSRF_BYTES = 24


@dataclass(frozen=True)
class MirrorSession:
    """An authenticated Mirror visit: the person's own workspace view and user, nothing more."""

    model: SelfModel
    user: User
    claims: Claims

    @property
    def external_id(self) -> str:
        return self.user.external_id

    @property
    def csrf(self) -> str:
        return self.claims.csrf

    def check_csrf(self, given: str | None) -> None:
        """Refuse a form that does not echo this session's CSRF token."""
        check_csrf(self.csrf, given)


def check_csrf(expected: str, given: str | None) -> None:
    """Refuse a form whose CSRF token is missing or not ``expected`` (the session's own)."""
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise refused(Refusal.TAMPERED, "this form has expired; reload the page and try again")


def link_token(model: SelfModel, link: MirrorLink) -> str:
    """The signed token for a minted link (what goes into the URL)."""
    claims = Claims(
        workspace=model.workspace.name,
        workspace_id=model.workspace.id,
        user_id=link.user_id,
        link_id=link.id,
        expires_at=int(link.expires_at.timestamp()),
    )
    return sign(model.mirror_secret(), Purpose.LINK, claims)


def open_link(base: SelfModel, token: str) -> tuple[MirrorSession, str]:
    """Exchange a link token for a session; returns the session and its cookie value."""
    model, claims = verified(base, Purpose.LINK, token, Claims)
    user = _check_link(model, claims)
    now = datetime.now(UTC)
    session_claims = replace(
        claims,
        expires_at=min(claims.expires_at, int(now.timestamp()) + SESSION_TTL_S),
        csrf=secrets.token_urlsafe(CSRF_BYTES),
    )
    cookie = sign(model.mirror_secret(), Purpose.SESSION, session_claims)
    return MirrorSession(model, user, session_claims), cookie


def resume(base: SelfModel, cookie: str | None) -> MirrorSession:
    """The session a cookie stands for, if it (and its link) is still good."""
    if not cookie:
        raise refused(Refusal.MALFORMED, "open the Mirror through the link you were given")
    model, claims = verified(base, Purpose.SESSION, cookie, Claims)
    return MirrorSession(model, _check_link(model, claims), claims)


def verified(
    base: SelfModel, purpose: Purpose, token: str, kind: type[AnyClaims]
) -> tuple[SelfModel, AnyClaims]:
    """The workspace view a genuine, unexpired token of ``purpose`` was signed for, and its
    claims (of ``kind``); raises ``MirrorAccessError`` otherwise. Shared by the Mirror and the
    Inspector: each then checks the row its claims name (the link, the API key)."""
    # Only the workspace's name is read before the signature is checked (its secret signs).
    try:
        model = base.in_existing_workspace(signing_workspace(token))
    except WorkspaceNotFoundError:
        raise refused(Refusal.REVOKED, "this link is no longer valid") from None
    claims = verify(model.mirror_secret(), purpose, token, kind=kind)
    if model.workspace.id != claims.workspace_id:
        # Signed for a workspace of that name since deleted (under a configured secret).
        raise refused(Refusal.REVOKED, "this link is no longer valid")
    return model, claims


def _check_link(model: SelfModel, claims: Claims) -> User:
    try:
        link = model.mirror_link(claims.link_id)
        user = model.user_by_id(claims.user_id)
    except (MirrorLinkNotFoundError, UserNotFoundError):
        # Deleted with the person (forget) or never existed here.
        raise refused(Refusal.REVOKED, "this link is no longer valid") from None
    if link.user_id != user.id:
        raise refused(Refusal.TAMPERED, "this link has been altered and cannot be trusted")
    if link.revoked_at is not None:
        raise refused(Refusal.REVOKED, "this link has been switched off")
    if not link.usable_at(datetime.now(UTC)):
        raise refused(Refusal.EXPIRED, "this link has expired")
    return user


__all__ = [
    "CSRF_BYTES",
    "SESSION_COOKIE",
    "SESSION_TTL_S",
    "MirrorSession",
    "check_csrf",
    "link_token",
    "open_link",
    "resume",
    "verified",
]
