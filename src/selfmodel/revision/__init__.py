"""Revision: how candidate beliefs change the self-model, and the confidence math behind it."""

from selfmodel.revision.reviser import Reviser, RevisionOutcome

__all__ = ["Reviser", "RevisionOutcome"]
