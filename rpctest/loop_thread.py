"""Event loops rpctest runs on threads of its own (hosted servers, stub servers): starting and closing them.

A hosted service that outlives one test's loop runs on a background thread's loop; when it stops,
that loop must leave nothing behind for the user's ResourceWarning-strict test run: no pending task,
no async generator, and no thread in the loop's default executor (tornado resolves host names there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any, Self

__all__ = ["close_loop", "LoopHosted", "LoopServer", "running_loop"]

_logger = logging.getLogger("rpctest.serve")


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending on ``loop`` (not running), finish generators and executor, close it."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


class LoopServer:
    """A stub server that runs on the caller's running loop, or on a private loop in its own thread.

    Subclasses implement ``astart()`` (bind and serve on the running loop, setting ``self._loop``),
    ``astop()``, ``listening`` and ``_stop_wait()``; this class supplies the thread mode (``start`` /
    ``stop``, ``with``) and ``async with``, so every stack's stub server stops the same way: promptly,
    joining its thread, and never leaving a loop or a socket behind.
    """

    thread_name = "rpctest-stub-server"
    address: str | None = None

    def _init_loop_state(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None
        self._state_lock = threading.Lock()
        self._stopped = False
        self._client: Any = None

    # -- what a subclass provides ----------------------------------------------------------------------

    async def astart(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    async def astop(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def listening(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def alive(self) -> bool:
        """Serving: listening and, in thread mode, its loop's thread still running. A listener alone
        outlives a loop that died, so a crash would go unseen by ``listening``."""
        thread = self._thread
        return self.listening and (thread is None or thread.is_alive())

    def _stop_wait(self) -> float:
        return 10.0

    #: what to use instead of :attr:`client` on the server's own loop (for the error message)
    async_client_hint = "the stack's asyncio client"

    def _make_client(self) -> Any:  # pragma: no cover - abstract
        """A blocking wire client connected to this server."""
        raise NotImplementedError

    @property
    def client(self) -> Any:
        """A blocking wire client for this server (made on first use, closed by :meth:`stop`)."""
        with self._state_lock:
            if self._stopped or self.address is None:
                raise RuntimeError(f"{self!r} is not running")
            if self._client is None:
                if self._thread is None and running_loop() is self._loop:
                    raise RuntimeError(
                        "this stub server runs on the current event loop; a blocking client would deadlock it. "
                        f"Use {self.async_client_hint}"
                    )
                self._client = self._make_client()
            return self._client

    # -- the thread mode -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving on a private event loop in a daemon thread (returns once it listens)."""
        with self._state_lock:
            if self._stopped:
                raise RuntimeError(f"{self!r} was stopped; build a new one")
            if self._thread is not None or self.listening:
                return self
            ready = threading.Event()
            failure: list[BaseException] = []
            self._thread = threading.Thread(
                target=lambda: asyncio.run(self._serve_in_thread(ready, failure)), name=self.thread_name, daemon=True
            )
            self._thread.start()
        ready.wait()
        if failure:
            thread, self._thread = self._thread, None
            thread.join()
            self._stopped = True
            raise failure[0]
        return self

    async def _serve_in_thread(self, ready: threading.Event, failure: list[BaseException]) -> None:
        try:
            await self.astart()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        self._thread_stop = asyncio.Event()
        ready.set()
        await self._thread_stop.wait()
        await self.astop()

    def stop(self) -> None:
        """Stop the server and release its sockets (and, in thread mode, its loop and thread)."""
        with self._state_lock:
            if self._stopped and self._thread is None:
                return
            client, self._client = self._client, None
        if client is not None:
            client.close()
        thread = self._thread
        if thread is not None:
            self._thread = None
            loop, stop_event = self._loop, self._thread_stop
            if loop is not None and stop_event is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop already ended
                    loop.call_soon_threadsafe(stop_event.set)
            thread.join(self._stop_wait())
            if thread.is_alive():  # pragma: no cover - a stub callback that never returns
                _logger.warning("the stub server thread at %s did not stop", self.address)
            self._stopped = True
            return
        loop = self._loop
        if loop is None or not self.listening:
            self._stopped = True
            return
        if running_loop() is loop:
            raise RuntimeError(
                "this stub server runs on the current event loop, so stop() cannot wait for it here; "
                "use 'await server.astop()'"
            )
        asyncio.run_coroutine_threadsafe(self.astop(), loop).result(self._stop_wait())

    def __enter__(self) -> Any:
        if not self.listening and self._thread is None:
            return self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Any:
        return await self.astart()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.astop()


def _peer_port(fileobj: Any) -> int | None:
    """The remote port of a socket registered with a loop (an int fd, as tornado registers, or a socket)."""
    import socket

    try:
        if isinstance(fileobj, int):
            with socket.fromfd(fileobj, socket.AF_INET, socket.SOCK_STREAM) as dup:  # a dup: the original stays
                peer = dup.getpeername()
        else:
            peer = fileobj.getpeername()
    except (OSError, AttributeError, ValueError):
        return None
    return peer[1] if isinstance(peer, tuple) and len(peer) >= 2 else None


def clients_of(port: int) -> int:
    """How many sockets registered with the running loop are connected to ``port`` (clients of a
    server on this loop that have not seen its close yet)."""
    selector = getattr(asyncio.get_running_loop(), "_selector", None)
    if selector is None:  # pragma: no cover - a loop without a selector (Windows' proactor)
        return 0
    return sum(1 for key in list(selector.get_map().values()) if _peer_port(key.fileobj) == port)


async def until_clients_closed(port: int, timeout: float = 1.0) -> int:
    """Let clients on this loop that are connected to ``port`` see the server's close and release
    their sockets (bounded by ``timeout``); returns how many are still open.

    A server stopped on the test's own loop closes its side, but a client on that loop (a tornado
    WebSocket, say) only closes its socket when the loop next reads the EOF. If the loop ends first,
    the socket is left to the garbage collector, which reports it (a ResourceWarning) in some later
    test that has nothing to do with it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (remaining := clients_of(port)) and loop.time() < deadline:
        await asyncio.sleep(0.005)
    return remaining


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or None (asyncio raises instead)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LoopHosted:
    """A real server hosted on the test's running loop, or on a background thread's loop.

    Subclasses implement ``_start()`` (on the serving loop: build the server, set ``self.loop``) and
    ``_shutdown()`` (close clients, connections and listeners on that loop), and set ``timeout``,
    ``_thread = None`` and ``_stopped = False``; this class supplies ``astop`` (for a service started on
    the caller's loop), ``stop`` (for one on a thread: shut down there, stop the loop, join) and
    ``start_in_thread``, so every stack's host starts, fails and stops the same way.
    """

    #: the stack, for messages ("this pykern.api service runs on the test's own loop ...")
    stack_title = "rpctest"
    timeout: float = 5.0
    loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stopped = False

    async def _start(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _shutdown(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _before_thread_stop(self) -> None:
        """Release what the caller's thread holds (a blocking client) before the loop stops."""

    def start_in_thread(self, name: str) -> None:
        """Run ``_start`` on a new loop in a daemon thread; return when it is ready, or raise why not."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        async def start() -> None:
            try:
                await self._start()
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                with contextlib.suppress(Exception):
                    await self._shutdown()
            finally:
                started.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.create_task(start())
            try:
                loop.run_forever()
            finally:
                close_loop(loop)

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()
        if not started.wait(self.timeout) or failure:
            self._stopped = True
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(self.timeout)
            if failure:
                raise failure[0]
            raise TimeoutError(f"the {self.stack_title} server {name!r} did not start within {self.timeout:g}s")

    async def astop(self) -> None:
        """Stop a service started on the caller's loop (``serve_async``)."""
        if self._stopped:
            return
        self._stopped = True
        await self._shutdown()

    def stop(self) -> None:
        """Stop a background-thread service: shut down on its loop, stop the loop, join the thread."""
        if self._stopped:
            return
        if self._thread is None:
            raise RuntimeError(f"this {self.stack_title} service runs on the test's own loop: use 'await service.astop()'")
        self._stopped = True
        self._before_thread_stop()
        loop = self.loop
        if loop is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(self.timeout + 1)
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(loop.stop)
        self._thread.join(self.timeout + 1)
