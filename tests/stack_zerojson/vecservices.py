"""The services the ZeroJSON golden vectors were recorded against, declared with rpctest's API.

Each mirrors a ``services`` entry of ``tests/golden/zerojson/*.json``: same interface names,
flags, methods, signatures, declared results, attachments, docstrings (the introspect vector shows
them) and behaviour (the ``does`` texts). :func:`start_peers` starts the two servers the vectors
describe: server A hosts every interface plus the nameserver, server B hosts the authenticator
and is registered in A's nameserver as ``/demo/auth``.
"""

from __future__ import annotations

import time
from typing import Any

from rpctest.stacks.zerojson.errors import AccessDenied, RemoteError
from rpctest.stacks.zerojson.nameserver import NameServer
from rpctest.stacks.zerojson.server import AUTHENTICATOR_INTERFACE, ZeroJSONServer
from rpctest.stacks.zerojson.service import (
    Request,
    Service,
    check_argument,
    interface,
    method,
)


@interface("com.example.calc")
class Calc(Service):
    """Calculator demo service."""

    introspection_data = {"com.example.calc.version": "1"}

    @method
    def add(self, request: Request, a: Any, b: Any) -> Any:
        """Add two numbers (required a, b)."""
        return a + b

    @method
    def scale(self, request: Request, x: Any, factor: Any = 2, offset: Any = 0) -> Any:
        """x * factor + offset (factor/offset optional)."""
        return x * factor + offset

    @method(results=("quotient", "remainder"))
    def divmod(self, request: Request, a: Any, b: Any) -> tuple[Any, Any]:
        """Two named results."""
        return divmod(a, b)

    @method(results=("value",))
    def one(self, request: Request) -> int:
        """Single named result."""
        return 1

    @method(results=("a", "b"))
    def wrong_arity(self, request: Request) -> tuple[int, int, int]:
        """Declares two results but returns three -> server-side RuntimeError."""
        return 1, 2, 3

    @check_argument("n", int, validator=lambda n: n >= 0)
    @method
    def checked(self, request: Request, n: int) -> int:
        """check_argument demo: n must be a non-negative int."""
        return n

    @method(attachments=("blob", None))
    def upload(self, request: Request, blob: bytes | None) -> dict[str, Any]:
        """Incoming attachment becomes argument `blob`."""
        return {"size": None if blob is None else len(blob)}

    @method(results=("size", "blob"), attachments=(None, "blob"))
    def download(self, request: Request, size: int) -> tuple[int, bytes]:
        """Outgoing attachment taken out of the named results."""
        return size, b"x" * size

    @method
    def raw(self, request: Request) -> dict[str, Any]:
        """No declared args: request.args passed through untouched."""
        attachment = None if request.attachment is None else request.attachment.decode("latin-1")
        return {"args": request.args, "attachment": attachment, "extensions": dict(request.extensions)}

    @method
    def boom(self, request: Request) -> None:
        """Unexpected Python exception -> code 1."""
        raise ValueError("kaboom")

    @method
    def deny(self, request: Request) -> None:
        raise AccessDenied("go away")

    @method
    def custom_code(self, request: Request) -> None:
        raise RemoteError("custom", code=42)

    @method
    def slow(self, request: Request, ms: int) -> int:
        """Blocks the (single-threaded) server loop for `ms` milliseconds."""
        time.sleep(ms / 1000)
        return ms


@interface("org.pycom.demo")
class Demo(Service):
    """Demo service."""

    @method
    def echo(self, request: Request) -> Any:
        """Returns the arguments unchanged."""
        return request.args

    @method
    def throw(self, request: Request) -> None:
        """Raises a remote error with no code."""
        raise RemoteError(repr(request.args))


@interface("com.example.plain")
class Plain:
    """Not derived from Service: no introspect."""

    @method
    def ping(self, request: Request) -> str:
        return "pong"


@interface("com.example.counter", stateful=True)
class Counter(Service):
    """Stateful counter."""

    @method
    def incr(self, request: Request, step: int = 1) -> int:
        assert request.session is not None
        request.session["n"] = request.session.get("n", 0) + step
        return request.session["n"]

    @method
    def reset(self, request: Request) -> None:
        assert request.session is not None
        request.session.discard()


@interface("com.example.secure", authentication="required")
class Secure(Service):
    """Secured service."""

    @method
    def whoami(self, request: Request) -> Any:
        return request.user_info()


@interface(AUTHENTICATOR_INTERFACE, authentication="never")
class Authenticator(Service):
    """Demo authenticator."""

    @method(results=("token",))
    def authenticate(self, request: Request, user: Any, credentials: Any) -> str:
        if user == "alice" and credentials == "secret":
            return "tok-alice"
        raise AccessDenied("invalid user")

    @method(results=("name", "roles"))
    def validate(self, request: Request, token: Any) -> tuple[str, list[str]]:
        if token == "tok-alice":
            return "alice", ["admin"]
        raise AccessDenied("invalid token")


#: every interface server A hosts (the nameserver is added by start_peers)
SERVER_A_SERVICES = (Calc, Demo, Plain, Counter, Secure)


class Peers:
    """Server A (everything + nameserver) and server B (authenticator, registered in A)."""

    def __init__(self, a: ZeroJSONServer, b: ZeroJSONServer) -> None:
        self.a = a
        self.b = b

    def stop(self) -> None:
        try:
            self.a.stop()
        finally:
            self.b.stop()


def start_peers(address_a: str | None = None, address_b: str | None = None, **options: Any) -> Peers:
    """Start B, then A with a nameserver in which B is registered as ``/demo/auth``."""
    b = ZeroJSONServer([Authenticator], address=address_b).start()
    try:
        nameserver = NameServer()
        nameserver.add("/demo/auth", b.address, [AUTHENTICATOR_INTERFACE])
        a = ZeroJSONServer([*SERVER_A_SERVICES, nameserver], address=address_a, **options).start()
    except BaseException:
        b.stop()
        raise
    return Peers(a, b)
