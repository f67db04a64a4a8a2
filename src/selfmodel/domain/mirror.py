"""Records behind the Mirror: the links that open it and the resonance cards it shows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from selfmodel.domain.models import BeliefKind


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class MirrorLink(_Record):
    """One minted Mirror link: who it opens for, until when, and whether it was revoked.

    The link's token is signed and never stored; this row is what makes revocation possible.
    """

    id: str
    workspace_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        """True while the link is neither expired nor revoked."""
        return self.revoked_at is None and now < self.expires_at


class IssuedMirrorLink(MirrorLink):
    """A link as the HTTP API mints it: the record plus the signed URL to hand the person.

    ``path`` is the same link relative to the server root (behind a proxy, join it to the public
    origin). The in-process library returns the plain ``MirrorLink``: it has no URL to offer.
    """

    url: str = Field(description="Absolute URL to hand the person; opens their Mirror.")
    path: str = Field(description="The same link relative to the server root.")


class ResonanceCard(_Record):
    """A candidate statement the product offers the user, to select if it resonates.

    ``selected`` is ``None`` until the user answers; a selection records the observation it
    produced and the belief it created or reinforced.

    Called ``ResonancePrompt`` before "prompt" came to mean only what is sent to a language
    model; ids keep their ``prm_`` prefix (they are stored), as do the storage names.
    """

    id: str
    workspace_id: str
    user_id: str
    statement: str
    kind: BeliefKind
    created_at: datetime
    source: str | None = None  # what prompted it, e.g. "article:42" or "session:7"
    answered_at: datetime | None = None
    selected: bool | None = None
    observation_id: str | None = None
    belief_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


# Old names, importable for one release (selfmodel.deprecation).
_RENAMED = {"ResonancePrompt": "ResonanceCard"}


def __getattr__(name: str) -> Any:
    from selfmodel.deprecation import renamed_attribute

    return renamed_attribute(__name__, name, _RENAMED, globals())


if TYPE_CHECKING:
    ResonancePrompt = ResonanceCard
