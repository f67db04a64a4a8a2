"""Identifiers: a type prefix plus a time-ordered part, so ids sort by creation time (cursor
pagination, "oldest first" queues and "newest first" lists need no extra column) and say what
they name in logs."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_millis = 0
_sequence = 0


def new_id(prefix: str) -> str:
    """A new id like ``bel_0192f3a4b5c600016fa2c1d9``.

    12 hex digits of milliseconds, then a 4-hex-digit sequence that keeps ids made in the same
    millisecond by this process in creation order, then 8 random hex digits so ids made by other
    processes at the same moment do not collide.
    """
    global _last_millis, _sequence
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last_millis:
            # Same millisecond (or the clock stepped back): stay ordered by counting on.
            _sequence += 1
            if _sequence > 0xFFFF:
                _last_millis, _sequence = _last_millis + 1, 0
            millis = _last_millis
        else:
            _last_millis, _sequence = millis, 0
        sequence = _sequence
    return f"{prefix}_{millis:012x}{sequence:04x}{os.urandom(4).hex()}"
