"""The profile: what the self-model says about the person above single beliefs, and the open
conflicts (two things they said that deny each other) to ask them about."""

from __future__ import annotations

from selfmodel.domain.profile import Conflict, Profile
from selfmodel.server.auth import Reader
from selfmodel.server.routes import AsOf, UserPath, v1_router

router = v1_router("profile")


@router.get("/users/{user}/profile", response_model=Profile)
def get_profile(user: UserPath, caller: Reader, as_of: AsOf = None) -> Profile:
    """Current facets (each with when it became true and what it replaced), people, pets,
    interests, likes, dislikes, values, goals, how to answer, and open conflicts."""
    return caller.sm.profile(user, now=as_of)


@router.get("/users/{user}/conflicts", response_model=list[Conflict])
def list_conflicts(user: UserPath, caller: Reader, as_of: AsOf = None) -> list[Conflict]:
    """Pairs of active beliefs that deny each other: questions for the user, not two truths."""
    return caller.sm.conflicts(user, now=as_of)
