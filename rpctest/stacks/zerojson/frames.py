"""Sending and receiving one multipart message on a pyzmq socket at the cost of its frames alone.

pyzmq's ``Socket.send_multipart`` checks every frame's buffer interface in Python, then sends each
through the Python-level ``Socket.send`` override (routing-id and group keywords, then the backend),
and ORs ``SNDMORE`` into the flags as a ``zmq.Flag`` enum for every frame but the last. A ZeroJSON
message has 3 (a request after the delimiter) to 5 frames (a reply with its envelope), so on a round
trip that was more time than the sends themselves (about 3.5 us over the 4.3 us of a 4-frame reply's
sends, measured). :func:`send_frames` calls the backend's ``send``, which ``zmq.Socket`` inherits and
its override ends in, with int flags: the same frames, the same copies, the same errors.
``recv_multipart`` asks the socket for ``RCVMORE`` after every frame, and pyzmq looks the option up
as a ``zmq.SocketOption`` enum member each time; :func:`recv_frames` reads the flag off each received
``zmq.Frame`` and copies its bytes out, as ``recv_multipart`` does.

ZeroMQ delivers a multipart message whole or not at all, and a socket that takes its first frame
takes the rest (its high-water mark counts messages), so a ``NOBLOCK`` send that cannot go raises
``zmq.Again`` on the first frame with nothing sent, as ``send_multipart`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import zmq
from zmq.backend import Socket as _BackendSocket

__all__ = ["NOBLOCK", "recv_frames", "send_frames"]

#: ``zmq.NOBLOCK`` as a plain int (an enum member costs an enum operation wherever it is combined)
NOBLOCK = int(zmq.NOBLOCK)
_SNDMORE = int(zmq.SNDMORE)
_send = _BackendSocket.send
_recv = _BackendSocket.recv


def send_frames(sock: zmq.Socket, frames: Sequence[bytes], flags: int = 0) -> None:
    """Send ``frames`` as one multipart message, with ``flags`` on every frame (none: nothing is sent)."""
    if not frames:
        return
    more = flags | _SNDMORE
    for frame in frames[:-1]:
        _send(sock, frame, more)
    _send(sock, frames[-1], flags)


def recv_frames(sock: zmq.Socket, flags: int = 0) -> list[bytes]:
    """The frames of the next message (``zmq.Again`` when ``flags`` has ``NOBLOCK`` and none is there,
    or when the socket's receive timeout runs out; the rest of a message is there with its first frame)."""
    frame = _recv(sock, flags, False)
    frames: list[bytes] = [frame.bytes]
    while frame.more:
        frame = _recv(sock, flags, False)
        frames.append(frame.bytes)
    return frames
