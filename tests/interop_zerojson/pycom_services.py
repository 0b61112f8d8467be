"""Services written for the differential suite, declared with the REAL PyCOM (pycom 0.6.0) and
hosted by PyCOM's own launcher (``python -m pycom``) in a child process. Not the examples: they
cover what the examples do not (a method without declared checks, an introspect-only interface,
errors raised on purpose with PyCOM's codes and a handler's own, attachments both ways, a class
without ``introspect``) and one interface with planted bugs.

Importing this module registers the interfaces in PyCOM's process-global registry, as PyCOM does:
only the launcher's process imports it.
"""

from __future__ import annotations

import pycom
from pycom.ext import checks


@pycom.interface("org.rpctest.interop.calc")
class Calc(pycom.Service):
    """Arguments checked with PyCOM's check_argument (introspect shows their names only)."""

    @checks.check_argument("a", valid_types=int)
    @checks.check_argument("b", valid_types=int)
    @pycom.method
    def add(self, request, a, b):
        """Add two integers."""
        return a + b

    @checks.check_argument("a", valid_types=int)
    @checks.check_argument("b", valid_types=int, validator=lambda name, value: value != 0,
                           error_message="b must not be 0")
    @pycom.method(results=("quotient", "remainder"))
    def divmod(self, request, a, b):
        """Integer division; b == 0 is refused by its check (code 4)."""
        return divmod(a, b)

    @checks.check_argument("x", valid_types=(int, float))
    @checks.check_argument("factor", valid_types=(int, float))
    @pycom.method
    def scale(self, request, x, factor=2):
        """An optional argument with a default."""
        return x * factor

    @pycom.method
    def refuse(self, request, reason):
        """Errors raised on purpose: PyCOM's own codes and a handler-defined one."""
        if reason == "denied":
            raise pycom.AccessDenied("not for you")
        if reason == "bad":
            raise pycom.BadRequest("bad reason")
        raise pycom.RemoteError("refused: %s" % (reason,), code=42)


@pycom.interface("org.rpctest.interop.notes")
class Notes(pycom.Service):
    """No declared checks at all: each method copes with any JSON it is given."""

    @pycom.method
    def echo(self, request, value):
        return value

    @pycom.method
    def describe(self, request, value, label=None):
        return {"type": type(value).__name__, "label": label if isinstance(label, str) else None}

    @pycom.method
    def anything(self, request):
        """No parameters: PyCOM passes args untouched."""
        return {"args": request.args}


@pycom.interface("org.rpctest.interop.files")
class Files(pycom.Service):
    """Attachments both ways (frame 2)."""

    @pycom.method(attachments=("blob", None))
    def upload(self, request, blob):
        return {"size": len(blob) if blob is not None else None}

    @checks.check_argument("size", valid_types=int, validator=lambda name, value: 0 <= value <= 64)
    @pycom.method(results=("size", "blob"), attachments=(None, "blob"))
    def download(self, request, size):
        return size, b"x" * size


@pycom.interface("org.rpctest.interop.plain")
class Plain(object):
    """Not a pycom.Service: no introspect, so no contract can be exported from its address."""

    @pycom.method
    def ping(self, request):
        return "pong"


@pycom.interface("org.rpctest.interop.buggy")
class Buggy(pycom.Service):
    """Planted bugs: each is a server error (code 1) for some well-formed call."""

    @pycom.method
    def ratio(self, request, n):
        return 100 // n  # n == 0, or anything but a number: code 1

    @pycom.method(results=("a", "b"))
    def pair(self, request, a):
        if isinstance(a, list):
            return (a,)  # one result where two are declared: code 1
        return a, a

    @pycom.method
    def lookup(self, request):
        return request.args["key"]  # no parameters declared, yet it needs "key": code 1 without it
