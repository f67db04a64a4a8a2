"""The HTTP protocol the API is served with: uvicorn's h11, answering unparsable requests in JSON.

uvicorn answers a request it cannot parse — a ``Content-Length`` that is not a number, or two that
disagree, a broken request line — itself, before the app sees it, with a plain-text 400. Every
other error of the API is the JSON shape of ``selfmodel.server.errors``, so this one is too.

It is h11 on purpose, not uvicorn's ``auto`` (httptools when that happens to be installed): the
server then parses requests, and refuses the bad ones, the same way wherever it runs.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from selfmodel.server.errors import CODE_BY_HTTP_STATUS, error_body

UNPARSABLE_REQUEST = (
    "the request is not valid HTTP/1.1 (check the request line and headers such as Content-Length)"
)


class H11ProtocolWithJsonErrors(H11Protocol):
    """uvicorn's h11 protocol whose 400 for an unparsable request is the API's JSON error."""

    def send_400_response(self, msg: str) -> None:
        # ``msg`` is uvicorn's fixed "Invalid HTTP request received."; ours says what to check.
        body = json.dumps(error_body(CODE_BY_HTTP_STATUS[400], UNPARSABLE_REQUEST)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        # As uvicorn's own: the response goes through h11, then the connection is closed.
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()


__all__ = ["H11ProtocolWithJsonErrors"]
