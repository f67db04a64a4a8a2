"""A small real HTTP server that speaks the OpenAI protocol, for end-to-end tests.

It listens on 127.0.0.1 on a free port, in a background thread, and stops when its ``with`` block
ends. ``/v1/chat/completions`` answers from a per-test script (valid JSON, broken JSON, HTTP
errors, slow answers for timeouts); ``/v1/embeddings`` returns deterministic unit vectors derived
from a hash of each input text (dimension configurable), so the same text always embeds the same.

    with OpenAIServer(embedding_dim=8) as server:
        server.script_chat(Reply.chat('{"beliefs": []}'), Reply.error(500))
        client = SomeClient(base_url=server.base_url)   # http://127.0.0.1:PORT/v1
        ...
        assert server.requests_to("/v1/chat/completions")[0]["model"] == "test-model"
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def chat(cls, content: str, *, delay_s: float = 0.0) -> Reply:
        """A successful chat completion whose message content is ``content``."""
        return cls.json(_completion(content), delay_s=delay_s)

    @classmethod
    def chat_json(cls, payload: Any, *, delay_s: float = 0.0) -> Reply:
        """A successful chat completion whose content is ``payload`` serialised as JSON."""
        return cls.chat(json.dumps(payload), delay_s=delay_s)

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, delay_s: float = 0.0) -> Reply:
        return cls(status=status, body=json.dumps(payload).encode(), delay_s=delay_s)

    @classmethod
    def error(cls, status: int, *, retry_after_s: float | None = None) -> Reply:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
        payload = {"error": {"message": f"scripted error {status}", "type": "server_error"}}
        return cls(status=status, body=json.dumps(payload).encode(), headers=headers)

    @classmethod
    def slow(cls, delay_s: float, content: str = '{"beliefs": []}') -> Reply:
        """A valid answer that arrives after ``delay_s`` seconds (for client timeouts)."""
        return cls.chat(content, delay_s=delay_s)


def deterministic_embedding(text: str, dim: int) -> list[float]:
    """A unit vector derived from SHA-256 of ``text``: stable across runs and processes."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        for (raw,) in struct.iter_unpack(">I", digest):
            values.append(raw / 0xFFFFFFFF * 2.0 - 1.0)
        counter += 1
    vector = values[:dim]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class OpenAIServer:
    """An OpenAI-compatible HTTP server on 127.0.0.1 for one test (use it as a context manager)."""

    def __init__(self, *, embedding_dim: int = 384, model: str = "test-model") -> None:
        self.embedding_dim = embedding_dim
        self.model = model
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._scripts: dict[str, deque[Reply]] = {CHAT_PATH: deque(), EMBEDDINGS_PATH: deque()}
        #: Answer for chat requests when the script is empty (default: an empty belief list).
        self.default_chat: Callable[[dict[str, Any]], Reply] = lambda _request: Reply.chat(
            '{"beliefs": []}'
        )
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> OpenAIServer:
        handler = _handler_for(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free port
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in ``/v1``."""
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # -- scripting ---------------------------------------------------------------------------------
    def script_chat(self, *replies: Reply) -> None:
        """Queue answers for the next chat requests, in order."""
        with self._lock:
            self._scripts[CHAT_PATH].extend(replies)

    def script_embeddings(self, *replies: Reply) -> None:
        """Queue answers (typically errors) for the next embedding requests, in order."""
        with self._lock:
            self._scripts[EMBEDDINGS_PATH].extend(replies)

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for p, body in self.requests if p == path]

    # -- answering ---------------------------------------------------------------------------------
    def _answer(self, path: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append((path, body))
            script = self._scripts.get(path)
            scripted = script.popleft() if script else None
        if scripted is not None:
            return scripted
        if path == CHAT_PATH:
            return self.default_chat(body)
        if path == EMBEDDINGS_PATH:
            return self._embeddings(body)
        return Reply.json({"error": {"message": f"no route {path}"}}, status=404)

    def _embeddings(self, body: dict[str, Any]) -> Reply:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return Reply.json(
                {"error": {"message": "input must be text or a list of texts"}}, status=400
            )
        dim = int(body.get("dimensions") or self.embedding_dim)
        data = [
            {"object": "embedding", "index": i, "embedding": deterministic_embedding(t, dim)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return Reply.json(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", self.model),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(Reply.json({"error": {"message": "invalid JSON body"}}, status=400))
                return
            self._send(server._answer(self.path, body))

        def _send(self, reply: Reply) -> None:
            if reply.delay_s:
                time.sleep(reply.delay_s)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing left to tell it

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean; requests are recorded on the server object

    return Handler
