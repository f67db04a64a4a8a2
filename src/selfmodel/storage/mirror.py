"""``MirrorStore``: the Mirror's links, resonance cards and signing secret (docs/mirror.md)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from selfmodel.domain import MirrorLink, ResonancePrompt
from selfmodel.storage.database import Database


class MirrorStore(Database, Protocol):
    """The links that open a user's Mirror, the cards it asks them about, and its secret."""

    # -- links and the signing secret ------------------------------------------------------
    @abstractmethod
    def insert_mirror_link(self, link: MirrorLink) -> None: ...

    @abstractmethod
    def get_mirror_link(self, workspace_id: str, link_id: str) -> MirrorLink | None: ...

    @abstractmethod
    def revoke_mirror_links(
        self, workspace_id: str, user_id: str, at: datetime, *, link_id: str | None = None
    ) -> int:
        """Revoke one of the user's links (or all of them); returns how many were live."""

    @abstractmethod
    def mirror_secret(self, workspace_id: str, candidate: str) -> str:
        """The workspace's stored signing secret; stores ``candidate`` first if there is none.

        Concurrent first callers all get the same secret (the first one stored wins). Once a
        secret exists this is a read and nothing else.
        """

    # -- resonance cards (stored as prompts) -----------------------------------------------
    @abstractmethod
    def insert_prompts(self, prompts: Sequence[ResonancePrompt]) -> None: ...

    @abstractmethod
    def list_prompts(
        self, workspace_id: str, user_id: str, *, open_only: bool = False
    ) -> list[ResonancePrompt]:
        """The user's resonance cards, oldest first."""

    @abstractmethod
    def answer_prompt(self, prompt: ResonancePrompt) -> bool:
        """Record an answer on a still-open prompt; False (nothing changed) if already answered."""
