"""One forward pass for the small embedding calls that arrive together.

A server answers many ``context`` calls at once, and each embeds one short query. A transformer
runs eight short texts in one pass in a fraction of the time of eight passes (the per-layer work
of a pass is mostly fixed cost at these lengths), so small calls are queued to one thread per
model, which embeds everything waiting in a single pass. Nothing waits for company: when the
thread is idle a call runs at once, so a lone caller pays only a thread hop. Large calls (a batch
of statements being ingested) run on the caller's thread, so they never hold the queries up.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Encode = Callable[[list[str]], np.ndarray]


@dataclass
class _Call:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None


class Coalescer:
    """Runs ``encode`` for small calls on one thread, several calls per pass."""

    def __init__(
        self, encode: Encode, *, max_texts: int, on_start: Callable[[], None] | None = None
    ) -> None:
        self._encode = encode
        self._on_start = on_start  # run first on the thread (per-thread settings of the model)
        # Calls of this many texts or more bypass the queue; a pass gathers calls up to this many.
        self.max_texts = max_texts
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._owner_pid: int | None = None  # a forked child has no thread: it starts its own

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) >= self.max_texts:
            return self._encode(list(texts))
        return self.start(texts)()

    def start(self, texts: Sequence[str]) -> Callable[[], np.ndarray]:
        """Queue a small call; the returned function waits for its vectors."""
        call = _Call(list(texts))
        self._ensure_thread()
        self._queue.put(call)

        def wait() -> np.ndarray:
            call.done.wait()
            if call.error is not None:
                raise call.error
            assert call.vectors is not None
            return call.vectors

        return wait

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._owner_pid == pid:
            return
        with self._lock:
            if self._owner_pid != pid:
                self._queue = queue.SimpleQueue()
                thread = threading.Thread(target=self._run, name="selfmodel-embed", daemon=True)
                thread.start()
                self._owner_pid = pid

    def _run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        waiting = self._queue
        while True:
            calls = [waiting.get()]
            count = len(calls[0].texts)
            while count < self.max_texts:
                try:
                    call = waiting.get_nowait()
                except queue.Empty:
                    break
                calls.append(call)
                count += len(call.texts)
            self._serve(calls)

    def _serve(self, calls: list[_Call]) -> None:
        try:
            vectors = self._encode([text for call in calls for text in call.texts])
        except BaseException as exc:  # every caller of the pass gets the error, none hangs
            for call in calls:
                call.error = exc
                call.done.set()
            return
        start = 0
        for call in calls:
            call.vectors = vectors[start : start + len(call.texts)]
            start += len(call.texts)
            call.done.set()
