"""Signed, expiring tokens for Mirror links and sessions, and Inspector sessions (stdlib
HMAC-SHA256).

A token is ``base64url(claims JSON) "." base64url(HMAC)``. The HMAC key is derived from the
workspace's Mirror secret *and the token's purpose*, so a link token can never be replayed as a
session cookie, nor a Mirror session as an Inspector one, or the other way round. Tokens are never
stored: the row they name (the ``mirror_links`` row, the API key) is what lets one be revoked
before it expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from selfmodel.domain.text import contains_nul
from selfmodel.errors import MirrorAccessError

# Far longer than any token we mint; refuse bigger input before decoding it.
MAX_TOKEN_CHARS = 1_024


class Purpose(StrEnum):
    LINK = "link"  # in the URL the product hands the person
    SESSION = "session"  # in the HttpOnly cookie the link is exchanged for
    OPERATOR = "operator"  # the Inspector's cookie, which an admin API key is exchanged for


class Refusal(StrEnum):
    """Why a token was refused; the Mirror shows a page written for each."""

    MALFORMED = "malformed"
    TAMPERED = "tampered"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Claims:
    """What a token vouches for: whose Mirror, through which link, until when."""

    workspace: str  # workspace name (indexed lookup); ``workspace_id`` guards against reuse
    workspace_id: str
    user_id: str
    link_id: str
    expires_at: int  # unix seconds
    csrf: str = ""  # sessions only: the token every form must echo

    def expired(self, now: datetime) -> bool:
        return now.timestamp() >= self.expires_at


@dataclass(frozen=True)
class OperatorClaims:
    """What an Inspector session vouches for: which workspace, through which admin key, until
    when. The key is looked up again on every request, so revoking it ends the session."""

    workspace: str
    workspace_id: str
    key_id: str
    expires_at: int  # unix seconds
    csrf: str  # the token every form must echo

    def expired(self, now: datetime) -> bool:
        return now.timestamp() >= self.expires_at


AnyClaims = TypeVar("AnyClaims", Claims, OperatorClaims)


def refused(reason: Refusal, message: str) -> MirrorAccessError:
    return MirrorAccessError(message, reason=reason.value)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str, purpose: Purpose) -> bytes:
    return hmac.new(
        secret.encode("utf-8"), f"selfmodel-mirror/{purpose.value}".encode(), hashlib.sha256
    ).digest()


def sign(secret: str, purpose: Purpose, claims: Claims | OperatorClaims) -> str:
    """A token carrying ``claims`` for ``purpose``."""
    body = _b64(json.dumps(asdict(claims), separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(_key(secret, purpose), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def signing_workspace(token: str) -> str:
    """The name of the workspace whose secret signed ``token``, read before the signature is
    checked (the secret is the workspace's own, so it must be found first, as a JWT's ``kid``).

    The only claim trusted so far: it must be a plain, non-empty name, or the token is refused
    before it reaches the database. Everything else waits for ``verify``.
    """
    body, _ = _parts(token)
    name = _payload(body).get("workspace")
    if not isinstance(name, str) or not name.strip() or contains_nul(name):
        raise _malformed()
    return name


def verify(
    secret: str,
    purpose: Purpose,
    token: str,
    *,
    kind: type[AnyClaims],
    now: datetime | None = None,
) -> AnyClaims:
    """The claims (of ``kind``) of a genuine, unexpired token; raises ``MirrorAccessError``
    otherwise.

    The signature is checked first; only then are the claims read, and strictly: a claim of
    the wrong type is refused however the token came to be signed.
    """
    body, mac_text = _parts(token)
    expected = hmac.new(_key(secret, purpose), body.encode("ascii"), hashlib.sha256).digest()
    try:
        given = _unb64(mac_text)
    except (ValueError, binascii.Error):
        given = b""
    if not hmac.compare_digest(expected, given):
        raise refused(Refusal.TAMPERED, "this link has been altered and cannot be trusted")
    claims = _claims(_payload(body), kind)
    if claims.expired(now or datetime.now(UTC)):
        raise refused(Refusal.EXPIRED, "this link has expired")
    return claims


def _malformed() -> MirrorAccessError:
    return refused(Refusal.MALFORMED, "this link is incomplete or not a Mirror link")


def _parts(token: str) -> tuple[str, str]:
    """The claims part and the signature part of ``token`` (both base64url, so ASCII)."""
    if (
        not isinstance(token, str)
        or len(token) > MAX_TOKEN_CHARS
        or token.count(".") != 1
        or not token.isascii()
    ):
        raise _malformed()
    body, mac_text = token.split(".")
    return body, mac_text


def _payload(body: str) -> dict[str, Any]:
    try:
        data = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise _malformed() from None
    if not isinstance(data, dict):
        raise _malformed()
    return data


def _claims(data: dict[str, Any], kind: type[AnyClaims]) -> AnyClaims:
    """``data`` as ``kind`` if it holds exactly its fields (those without a default at least),
    each of its type: every claim is text but ``expires_at``."""
    every = {f.name for f in fields(kind)}
    required = {f.name for f in fields(kind) if f.default is MISSING}
    if not required <= data.keys() <= every:
        raise _malformed()
    text = all(isinstance(data[name], str) for name in data.keys() - {"expires_at"})
    # ``type() is int``: JSON's true is an int to Python, and no timestamp.
    if not text or type(data["expires_at"]) is not int:
        raise _malformed()
    return kind(**data)


__all__ = [
    "MAX_TOKEN_CHARS",
    "AnyClaims",
    "Claims",
    "OperatorClaims",
    "Purpose",
    "Refusal",
    "refused",
    "sign",
    "signing_workspace",
    "verify",
]
