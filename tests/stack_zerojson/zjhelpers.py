"""Helpers shared by the ZeroJSON tests: endpoints per transport, raw sockets, a misbehaving peer.

Imported as ``stack_zerojson.zjhelpers`` (``tests/`` is on the pythonpath).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator

import zmq

TRANSPORTS = ("inproc", "ipc", "tcp")


@contextlib.contextmanager
def endpoint(transport: str) -> Iterator[str | None]:
    """A bind address for ``transport`` (None: the server's private inproc name); ipc in a short temp dir."""
    if transport == "inproc":
        yield None
    elif transport == "tcp":
        yield "tcp://127.0.0.1:0"
    elif transport == "ipc":
        directory = tempfile.mkdtemp(prefix="zj", dir="/tmp")  # ipc paths must stay short (~107 bytes)
        try:
            yield f"ipc://{directory}/s"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    else:  # pragma: no cover
        raise ValueError(transport)


@contextlib.contextmanager
def raw_dealer(address: str, context: zmq.Context | None = None) -> Iterator[zmq.Socket]:
    """A DEALER connected to ``address``, closed (linger 0) afterwards."""
    sock = (context or zmq.Context.instance()).socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(address)
    try:
        yield sock
    finally:
        sock.close(linger=0)


def receive(sock: zmq.Socket, timeout: float) -> list[bytes] | None:
    """One message, or None when nothing arrives within ``timeout`` seconds."""
    if not sock.poll(int(timeout * 1000), zmq.POLLIN):
        return None
    return sock.recv_multipart()


class FakePeer:
    """A ROUTER on its own thread that answers each request with ``answer(app_frames)`` (None: silence).

    Records every request's application frames in ``requests``. For talking to the client with
    canned, broken or no replies.
    """

    def __init__(self, answer: Callable[[list[bytes]], list[bytes] | None], *, raw: bool = False) -> None:
        self.answer = answer
        self.raw = raw
        self.requests: list[list[bytes]] = []
        self.context = zmq.Context.instance()
        self._socket = self.context.socket(zmq.ROUTER)
        self._socket.linger = 0
        self._socket.bind("tcp://127.0.0.1:0")
        self.address = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zj-fake-peer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._socket.poll(20, zmq.POLLIN):
                    continue
                frames = self._socket.recv_multipart()
                identity, rest = frames[0], frames[1:]
                if rest and rest[0] == b"":
                    rest = rest[1:]
                self.requests.append(rest)
                reply = self.answer(rest)
                if reply is not None:
                    self._socket.send_multipart([identity, *([] if self.raw else [b""]), *reply])
        finally:
            self._socket.close(linger=0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def __enter__(self) -> FakePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
