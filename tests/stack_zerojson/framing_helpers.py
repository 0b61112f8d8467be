"""Helpers for the framing fuzz tests: small services, and ROUTER peers that misbehave on purpose.

Imported as ``stack_zerojson.framing_helpers``. A :class:`Peer` is a ROUTER on its own thread
whose behaviour is a function of each received message; :func:`pycom_like` answers as rpctest's
server (hence PyCOM) does, through an unstarted :class:`ZeroJSONServer`'s ``handle``, so a test can
break exactly one thing and see exactly that reported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Self

import zmq

from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.server import ZeroJSONServer
from rpctest.stacks.zerojson.service import Request, Service, interface, method

FUZZ_INTERFACE = "com.example.fuzzme"
FUZZ_METHOD = "add"
FUZZ_ARGS = {"a": 1, "b": 2}


@interface(FUZZ_INTERFACE)
class FuzzMe(Service):
    """The small service the framing cases attack."""

    @method
    def add(self, request: Request, a: Any, b: Any) -> Any:
        return a + b


@interface("com.example.fuzzme.session", stateful=True)
class FuzzSession(Service):
    """Stateful: PyCOM looks at ``session_id`` only on such interfaces."""

    @method
    def incr(self, request: Request, step: int = 1) -> int:
        assert request.session is not None
        request.session["n"] = request.session.get("n", 0) + step
        return request.session["n"]


@interface("com.example.fuzzme.secure", authentication="required")
class FuzzSecure(Service):
    """Requires a token: code 5 would come before the argument check without one."""

    @method
    def double(self, request: Request, x: Any) -> Any:
        return 2 * x


def accept_token(token: Any) -> dict[str, Any]:
    """The authenticator of the secured tests: one good token."""
    from rpctest.stacks.zerojson.errors import AccessDenied

    if token != "tok":
        raise AccessDenied("invalid token")
    return {"name": "tester", "roles": []}


Answer = Callable[["Peer", list[bytes]], "list[bytes] | None"]


class Peer:
    """A ROUTER on its own thread: ``answer(peer, message)`` (routing id included) gives the whole
    reply message, or None for silence. ``kill()`` (or an answer calling it) makes the peer stop
    reading altogether, as a crashed or wedged server would. Stop it with ``with`` or :meth:`stop`."""

    def __init__(self, answer: Answer, *, address: str = "tcp://127.0.0.1:0", context: zmq.Context | None = None) -> None:
        self.answer = answer
        self.context = context or zmq.Context.instance()
        self.received: list[list[bytes]] = []
        self.dead = threading.Event()
        self._stop = threading.Event()
        self._socket = self.context.socket(zmq.ROUTER)
        self._socket.linger = 0
        self._socket.bind(address)
        self.address = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._thread = threading.Thread(target=self._run, name="zj-framing-peer", daemon=True)
        self._thread.start()

    def kill(self) -> None:
        self.dead.set()

    def _run(self) -> None:
        sock = self._socket
        try:
            while not self._stop.is_set():
                if self.dead.is_set():
                    self._stop.wait(0.02)
                    continue
                if not sock.poll(20, zmq.POLLIN):
                    continue
                frames = sock.recv_multipart()
                self.received.append(frames)
                reply = self.answer(self, frames)
                if reply is not None:
                    sock.send_multipart(reply)
        finally:
            sock.close(linger=0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        assert not self._thread.is_alive(), "the peer thread did not stop"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def pycom_like(*services: Any, override: Callable[[list[bytes]], list[bytes] | None] | None = None, die_on: Callable[[list[bytes]], bool] | None = None) -> Answer:
    """Answer as PyCOM does; ``override(app_frames)`` may replace the application frames of one
    reply (return None to keep PyCOM's), ``die_on(app_frames)`` kills the peer on a request."""
    reference = ZeroJSONServer(services or (FuzzMe,))

    def answer(peer: Peer, frames: list[bytes]) -> list[bytes] | None:
        envelope, app = wire.split_envelope(frames)
        if app is not None and die_on is not None and die_on(app):
            peer.kill()
            return None
        if app is not None and override is not None:
            replaced = override(app)
            if replaced is not None:
                return [*envelope, b"", *replaced]
        return reference.handle(frames)

    return answer


def silent(peer: Peer, frames: list[bytes]) -> None:
    """Read everything, answer nothing."""


def always(app_reply: list[bytes]) -> Answer:
    """Answer every message, delimiter or not, with the same application frames."""

    def answer(peer: Peer, frames: list[bytes]) -> list[bytes] | None:
        return [frames[0], b"", *app_reply]

    return answer
