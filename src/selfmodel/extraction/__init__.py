"""Extraction: turning observations into candidate beliefs (local rules or an LLM)."""

from selfmodel.extraction.base import CandidateBelief, ExtractionRequest, Extractor

__all__ = ["CandidateBelief", "ExtractionRequest", "Extractor"]
