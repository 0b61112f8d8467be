"""A Kyoukai stub server: plain HTTP/1.1 on 127.0.0.1, answered by the stub router; needs no Kyoukai.

:class:`KyoukaiStubServer` is what consumer code that does not use httpx (``urllib``, ``requests``,
another process, another language) talks to when the Kyoukai service it calls is stubbed. It speaks
HTTP/1.1 with keep-alive and pipelining (:mod:`.http1`: httptools parses it, as in Kyoukai's own
backend) and answers each request
as :func:`.stubbing.answer` decides: the matching stub's body (JSON, text, or 204 for None) or its
error status; 405 with ``Allow`` when only other methods are stubbed for the path; 404 with the
router's near-miss explanation as the body otherwise. A JSON body it cannot read (not JSON, nested
too deeply, an integer of more than 4300 digits) reaches the stub as text. Every unanswered request
and every stub that raised is logged at WARNING on ``rpctest.serve`` and kept in
:attr:`KyoukaiStubServer.diagnostics`; whatever else goes wrong on one connection closes that
connection alone (:func:`rpctest.untrusted.contained`).

It runs on the caller's loop (``await server.astart()`` / ``astop()``) or on a private loop in a
daemon thread (:func:`serve_stubs`, ``start()`` / ``stop()``), and stops promptly, closing every
connection. Its address is registered so that the in-process httpx interception leaves requests to it alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rpctest.binding import check_bind_host
from rpctest.exceptions import ConfigError
from rpctest.loop_thread import LoopServer
from rpctest.model import Call, Reply
from rpctest.stacks.base import HostedService
from rpctest.stacks.kyoukai import stubbing
from rpctest.stacks.kyoukai.http1 import HTTP1Connection, require_httptools

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stubs.router import StubRouter

__all__ = ["KyoukaiStubServer", "serve_stubs"]

_logger = logging.getLogger("rpctest.serve")
_SERVER = "rpctest-kyoukai-stub"
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


class KyoukaiStubServer(LoopServer, HostedService):
    """Serves ``router``'s Kyoukai stubs at ``http://HOST:PORT`` until stopped (module docstring).

    ``service`` is the service every request is for; by default the one Kyoukai service the router
    has stubs for when the request comes (stubs started after the server count).
    """

    def __init__(
        self, router: "StubRouter", *, service: str | None = None, host: str = "127.0.0.1", port: int = 0, timeout: float = 5.0, public: bool = False
    ) -> None:
        check_bind_host(host, server="Kyoukai stub server", public=public)
        require_httptools()
        if timeout is None or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.router = router
        self._service = service
        self.host = host
        self.port = port
        self.timeout = timeout
        self.address: str | None = None
        self.diagnostics: list[str] = []
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[HTTP1Connection] = set()
        self._init_loop_state()
        self.thread_name = f"rpctest-kyoukai-stub-{service or 'app'}"

    @property
    def service(self) -> str | None:
        if self._service:
            return self._service
        # asked on every request: worked out once while the active stubs stay the same
        return self.router.memo((stubbing.STACK, "the one stubbed service"), self._one_service, uses_config=False)

    def _one_service(self) -> str | None:
        services = sorted({stub.service for stub in self.router.active(stubbing.STACK)})
        return services[0] if len(services) == 1 else None

    # -- running ---------------------------------------------------------------------------------------

    async def astart(self) -> "KyoukaiStubServer":
        if self._stopped:
            raise RuntimeError(f"{self!r} was stopped; build a new one")
        if self._server is not None:
            return self
        self._loop = asyncio.get_running_loop()
        loop = self._loop
        self._server = await loop.create_server(
            lambda: HTTP1Connection(self._answer, self._diagnose, _SERVER, self._connections), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.address = f"http://{self.host}:{self.port}"
        stubbing.register_endpoint(self.address)
        _logger.info("Kyoukai stub server for service %r at %s", self.service, self.address)
        return self

    async def astop(self) -> None:
        server, self._server = self._server, None
        self._stopped = True
        if server is None:
            return
        if self.address:
            stubbing.unregister_endpoint(self.address)
        server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close()
        if connections:  # their sockets close on the loop; a client that reads nothing is cut off
            _done, pending = await asyncio.wait([c.closed for c in connections], timeout=1.0)
            for connection in connections:
                if not connection.closed.done():
                    connection.abort()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        await server.wait_closed()

    @property
    def listening(self) -> bool:
        return self._server is not None


    def _stop_wait(self) -> float:
        return self.timeout + 5

    # -- calling it ------------------------------------------------------------------------------------

    async_client_hint = "httpx.AsyncClient(base_url=server.address)"

    def _make_client(self) -> Any:
        from rpctest.stacks.kyoukai.wire import KyoukaiClient

        assert self.address is not None
        return KyoukaiClient(self.address, timeout=self.timeout)

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Call one route over HTTP: ``operation`` as ``"METHOD /path"``, ``body`` a request envelope."""
        reply: Reply = self.client.call(Call(stubbing.STACK, self.service or "kyoukai", operation, body, meta=meta), timeout=meta.get("timeout"))
        return reply

    # -- answering ------------------------------------------------------------------------------------

    def _answer(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, content) for one request (:data:`.http1.Respond`)."""
        path, _, query = target.partition("?")
        if "://" in path:  # absolute-form target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), None)
        service = self.service
        if service is None:
            text = "no Kyoukai stubs are active" if not self.router.active(stubbing.STACK) else (
                "several Kyoukai services are stubbed: start the stub server with service=NAME"
            )
            self._diagnose(f"{method} {target}: {text}")
            return 404, _TEXT, text.encode()
        try:
            result = stubbing.answer(self.router, service, method, path, query, body, content_type)
        except Exception as exc:  # a stub or side effect that failed: the server failing, as Kyoukai would
            _logger.debug("stub failure", exc_info=True)
            self._diagnose(f"{method} {target}: the stub raised {exc!r}; answered 500")
            return 500, _TEXT, f"stub raised {exc!r}".encode()
        if result.explanation:
            self._diagnose(f"{method} {target}: answered {result.status}: {result.explanation}")
        return result.status, result.headers, result.content

    def _diagnose(self, text: str) -> None:
        _logger.warning("%s", text)
        self.diagnostics.append(text)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("running" if self.listening else "not started")
        return f"<KyoukaiStubServer {self._service or '(one stubbed service)'} at {self.address or '(unbound)'} ({state})>"


def _bind_from_address(address: str | None) -> dict[str, Any]:
    if not address:
        return {}
    parts = urlsplit(address)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(f"a Kyoukai stub server address is http://HOST:PORT, not {address!r}")
    return {"host": parts.hostname, "port": parts.port or 0}


def serve_stubs(router: "StubRouter", *, address: str | None = None, **options: Any) -> KyoukaiStubServer:
    """A :class:`KyoukaiStubServer` for ``router``, started on its own thread's loop (127.0.0.1, a free
    port unless ``address`` says ``http://HOST:PORT``); stop it with ``stop()`` (or ``with``)."""
    return KyoukaiStubServer(router, **{**_bind_from_address(address), **options}).start()
