"""A lighter HTTP/1.1 path for rpctest's Kyoukai client when it calls rpctest's own servers.

httpx's per-request work (URL parsing and merging, request and response models, its transport's
connection pool, hooks and tracing) cost several times the round trip itself against a stub server
on the same machine (issue 21: the client took about 70% of a stub-server call). A request to an
address that is rpctest's own stub server or hosted app (:data:`.stubbing.serving_over_wire`, where
the in-process respx stubs never answer anyway) goes through one kept-alive ``http.client``
connection instead: still a correct HTTP/1.1 client (keep-alive, chunked replies, ``Connection:
close``, a timeout on connecting and on every read), at a fraction of the cost. Every other address
keeps httpx, so in-process stubs, injected transports and HTTPS behave as before.
"""

from __future__ import annotations

import base64
import http.client
import select
import threading
from typing import Mapping
from urllib.parse import quote, urlsplit

from rpctest.model import ErrorKind, Reply, RpcError

__all__ = ["PlainHTTP"]

#: characters a request target may hold as they are; anything else (non-ASCII, spaces) is
#: percent-encoded, as httpx does
_SAFE = "!#$%&'()*+,/:;=?@[]~"


class PlainHTTP:
    """One kept-alive HTTP/1.1 connection to ``http://HOST:PORT[/base]``; :meth:`send` never raises
    for what the network does (a timeout or a broken connection is a TRANSPORT error in the reply).
    Threads sharing a client take turns on the connection (httpx's pool let them share it too)."""

    def __init__(self, address: str, headers: Mapping[str, str], auth: tuple[str, str] | None) -> None:
        parts = urlsplit(address)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._base = parts.path.rstrip("/")
        self._headers = {"Accept": "*/*", **headers}
        if auth is not None:  # httpx's BasicAuth wins over a configured Authorization header too
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode("latin-1")).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def _open(self, timeout: float) -> http.client.HTTPConnection:
        """The kept-alive connection, a new one when the server closed it (readable while idle:
        its end of stream), with ``timeout`` on its socket."""
        connection = self._connection
        if connection is None:
            connection = self._connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            return connection
        if connection.sock is not None and select.select([connection.sock], [], [], 0)[0]:
            connection.close()  # the next request connects again
        if connection.timeout != timeout:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
        return connection

    def send(self, method: str, target: str, headers: Mapping[str, str], content: bytes | None, timeout: float) -> Reply:
        from rpctest.stacks.kyoukai.host import reply_from_parts

        path = quote(self._base + target, safe=_SAFE)
        with self._lock:
            connection = self._open(timeout)
            try:
                connection.request(method, path, body=content, headers={**self._headers, **headers})
                response = connection.getresponse()
                body = response.read()
            except TimeoutError:
                self._drop()
                return Reply(errors=[RpcError("TRANSPORT", f"no reply to {method} {target} within {timeout:g}s", kind=ErrorKind.TRANSPORT)])
            except (OSError, http.client.HTTPException, UnicodeError) as exc:
                self._drop()
                return Reply(errors=[RpcError("TRANSPORT", f"{method} {target}: {type(exc).__name__}: {exc}", kind=ErrorKind.TRANSPORT)])
        version = "HTTP/1.0" if response.version == 10 else "HTTP/1.1"
        return reply_from_parts(response.status, response.reason, version, response.getheaders(), body)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
