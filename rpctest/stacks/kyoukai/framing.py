"""Kyoukai's transport unit for :mod:`rpctest.fuzz.garbage`: one HTTP/1.1 request, bytes as sent.

A unit is a whole request on a connection of its own: the request line, headers with the right
``Content-Length`` and ``Connection: close``, and the JSON body of a valid call, which the payload
damage of :mod:`rpctest.fuzz.garbage` changes (the length follows). The breakages here are HTTP's:
request lines (methods, targets, versions), headers (no colon, huge, many, bytes outside ASCII),
lengths that lie, chunked bodies that do not add up, line ends, pipelining, and other protocols
(TLS, HTTP/2). Every unit goes on a fresh TCP connection, read until the server closes or the
wait ends; the liveness check is the valid call through rpctest's HTTP client.
"""

from __future__ import annotations

import random
import socket

from rpctest.fuzz.garbage import FrameShape
from rpctest.model import Call, ErrorKind
from rpctest.stacks.kyoukai.wire import KyoukaiClient, request_parts

__all__ = ["GarbageTarget"]


class _Wrap:
    """A well-formed request around a body (the request line and host kept for the breakages)."""

    def __init__(self, method: str, target: str, host: str) -> None:
        self.method = method.encode("ascii")
        self.target = target.encode("ascii")
        self.host = host.encode("ascii")

    def head(self, *, method: bytes | None = None, target: bytes | None = None, version: bytes = b"HTTP/1.1",
             headers: list[bytes] | None = None, eol: bytes = b"\r\n") -> bytes:
        line = b" ".join((method or self.method, target or self.target, version))
        lines = [line, b"Host: " + self.host, *(headers or []), b"Connection: close"]
        return eol.join(lines) + eol + eol

    def __call__(self, payload: bytes) -> bytes:
        headers = [b"Content-Type: application/json", b"Content-Length: %d" % len(payload)]
        return self.head(headers=headers) + payload


def _wrap(shape: FrameShape) -> _Wrap:
    return shape.wrap  # type: ignore[return-value]


def _request_line(rng: random.Random, shape: FrameShape) -> bytes:
    """A method, a target or a version HTTP/1.1 does not have, or a request line that is not one."""
    wrap = _wrap(shape)
    choice = rng.randrange(4)
    if choice == 0:
        return wrap.head(method=rng.choice((b"get", b"G ET", b"\xff\xfe", b"X" * 10_000, b"", b"PRI", b"CONNECT")))
    if choice == 1:
        return wrap.head(version=rng.choice((b"HTTP/9.9", b"HTTP/1", b"HTTP/1.1.1", b"http/1.1", b"", b"HTTP/0.9", b"HTTP/2.0")))
    if choice == 2:
        return wrap.head(target=rng.choice((b"*", b"%", b"/%zz", b"/\xff\xfe", b"/" + b"a" * 70_000, b"//", b"http://[::1", b"/a b",
                                            wrap.target + b"?" + b"&" * 5000, wrap.target + b"?a=%ff%fe")))
    return rng.choice((b"\r\n\r\n", b"GET\r\n\r\n", b" / HTTP/1.1\r\n\r\n", wrap.method + b"\r\n\r\n", b"\x00" * 16 + b"\r\n\r\n"))


def _headers(rng: random.Random, shape: FrameShape) -> bytes:
    """Headers a server must refuse or bound: no colon, blanks before it, huge, many, bytes outside ASCII."""
    wrap = _wrap(shape)
    bad = rng.choice((
        [b"NoColon"], [b"Name : value"], [b"X-Big: " + b"v" * rng.choice((10_000, 70_000))],
        [b"X-%d: v" % i for i in range(rng.choice((200, 2000)))], [b"X-Bin: \xff\xfe\x00"], [b"X-Ctl: a\x00b"],
        [b" folded: continuation"], [b"Host: second"], [b": no name"], [b"Content-Type: application/json; charset=\xff"],
    ))
    return wrap.head(headers=bad)


def _lying_length(rng: random.Random, shape: FrameShape) -> bytes:
    """A ``Content-Length`` that is not the body's: short, long, negative, not a number, twice."""
    wrap = _wrap(shape)
    body = shape.payload
    value = rng.choice((b"0", b"1", b"%d" % (len(body) - 1), b"%d" % (len(body) + 1), b"%d" % (len(body) + 10_000), b"-1",
                        b"abc", b"1e3", b" ", b"99999999999999999999999999", b"+5", b"0x10"))
    headers = [b"Content-Type: application/json", b"Content-Length: " + value]
    if rng.random() < 0.3:
        headers.append(b"Content-Length: %d" % len(body))
    return wrap.head(headers=headers) + body


def _chunked(rng: random.Random, shape: FrameShape) -> bytes:
    """A chunked body whose chunk sizes lie, are not hexadecimal, or never end; with a length too."""
    wrap = _wrap(shape)
    body = shape.payload
    size = rng.choice((b"%x" % len(body), b"%x" % (len(body) + 5), b"zz", b"-1", b"f" * 40, b"%x;ext=\xff" % len(body)))
    end = rng.choice((b"\r\n0\r\n\r\n", b"\r\n", b"", b"\r\n0\r\nX-Trailer: \xff\r\n\r\n"))
    headers = [b"Content-Type: application/json", b"Transfer-Encoding: " + rng.choice((b"chunked", b"gzip, chunked", b"chunked, chunked", b"xchunked"))]
    if rng.random() < 0.3:
        headers.append(b"Content-Length: %d" % len(body))
    return wrap.head(headers=headers) + size + b"\r\n" + body + end


def _line_ends(rng: random.Random, shape: FrameShape) -> bytes:
    """Bare LF, bare CR, or no blank line ending the head."""
    wrap = _wrap(shape)
    headers = [b"Content-Type: application/json", b"Content-Length: %d" % len(shape.payload)]
    eol = rng.choice((b"\n", b"\r", b"\n\r"))
    head = wrap.head(headers=headers, eol=eol)
    return (head if rng.random() < 0.7 else head[: -len(eol)]) + shape.payload


def _pipelined(rng: random.Random, shape: FrameShape) -> bytes:
    """A valid request followed by garbage, or by a second request that is not one."""
    units: bytes = shape.valid.replace(b"Connection: close", b"Connection: keep-alive") + rng.choice(
        (rng.randbytes(rng.randrange(1, 64)), b"GET / HTTP/1.1\r\n\r\n", shape.valid[: rng.randrange(1, len(shape.valid))]))
    return units


def _other_protocol(rng: random.Random, shape: FrameShape) -> bytes:
    """What a client of another protocol sends: a TLS ClientHello, HTTP/2's preface, a 0MQ greeting."""
    return rng.choice((bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                       b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f", b"\x00\x00\x00\x39\x16\x00{}"))


_BREAKAGES = (_request_line, _headers, _lying_length, _chunked, _line_ends, _pipelined, _other_protocol)


class GarbageTarget:
    """A Kyoukai (HTTP) endpoint as a target of :func:`rpctest.fuzz.garbage.run_garbage`: a unit is
    the bytes of one request on a fresh connection; ``probe`` is a call (``"METHOD /path"`` and a
    request envelope with a JSON ``body``) the endpoint answers, also the liveness check."""

    def __init__(self, address: str, probe: Call, *, timeout: float = 5.0) -> None:
        self.address = address
        self.probe = probe
        self.timeout = float(timeout)
        self._client = KyoukaiClient(address, timeout=timeout)
        hostport = address.split("://", 1)[1].split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        self._peer = (host.strip("[]"), int(port))
        method, target, _headers, content = request_parts(probe.operation, probe.body)
        self.shape = FrameShape("kyoukai", content if content is not None else b"{}", "json", _Wrap(method, target, hostport), _BREAKAGES)

    def send(self, unit: bytes, wait: float) -> str:
        try:
            sock = socket.create_connection(self._peer, timeout=max(wait, 1.0))
        except OSError:
            return "refused"
        received = b""
        with sock:
            sock.settimeout(wait)
            try:
                sock.sendall(unit)
                while more := sock.recv(65_536):  # until the server closes (Connection: close)
                    received += more
            except socket.timeout:
                return "reply" if received else "none"
            except OSError:  # reset: the server closed on a request it would not read
                pass
        return "reply" if received else "close"

    def alive(self, timeout: float) -> bool:
        reply = self._client.call(self.probe, timeout=timeout)
        return not any(error.kind is ErrorKind.TRANSPORT for error in reply.all_errors)

    def close(self) -> None:
        self._client.close()
