"""Identifiers: a type prefix plus a time-ordered random part, so ids sort by creation time
(cursor pagination and "newest first" need no extra column) and say what they name in logs."""

from __future__ import annotations

import os
import time


def new_id(prefix: str) -> str:
    """A new id like ``bel_0192f3a4b5c6d7e8f9a0b1c2``: 12 hex digits of milliseconds, 12 random."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{millis:012x}{os.urandom(6).hex()}"
