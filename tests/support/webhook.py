"""A real HTTP server on 127.0.0.1 that records what webhooks POST to it.

with WebhookReceiver(statuses=[500, 500]) as hook:   # then 200 for every later POST
    ...  # something POSTs to hook.url
    assert hook.received[0]["alert"]["kind"] == "input_drift"
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class WebhookReceiver:
    def __init__(self, statuses: Iterable[int] = ()) -> None:
        self.statuses: deque[int] = deque(statuses)  # answered in turn, then 200
        self.received: list[Any] = []  # every POSTed JSON body, in order
        self.raw: list[tuple[bytes, dict[str, str]]] = []  # bodies as sent, with their headers
        self.answered: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(json.loads(body))
                    receiver.raw.append((body, dict(self.headers.items())))
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    receiver.answered.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet tests

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/selfmodel"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


__all__ = ["WebhookReceiver"]
