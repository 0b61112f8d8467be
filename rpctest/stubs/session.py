"""The session of a stubbed call: the state a connection keeps from call to call.

Some stacks keep state per connection: pykern.api gives every API call ``self.session``, one object
per WebSocket, whose values survive from call to call on that socket, start empty on a new one, and
whose ``session_end`` hooks run (last in, first out) when the socket closes. A stub that stands for
such a service must be able to do the same, so the stack's stub server (or in-process interceptor)
makes one :class:`StubSession` per connection and puts it in the neutral call's
``meta["session"]``; a ``side_effect`` callable that takes a ``session`` parameter is given it
(:mod:`rpctest.stubs.router`), and the stub's handle keeps it on each recorded call.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

__all__ = ["SESSION", "StubSession"]

#: the key of :attr:`rpctest.model.Call.meta` that holds the call's :class:`StubSession`
SESSION = "session"

_logger = logging.getLogger("rpctest.stubs")
_numbers = itertools.count(1)


class StubSession(dict):  # type: ignore[type-arg]
    """A dict of what one connection keeps across its calls; ``id`` names the connection.

    ``end()`` is what the stack does when the connection closes: for pykern, every value with a
    ``session_end`` method has it called, the newest value first; an exception in one is logged and
    the others still run (pykern's server runs them outside the request, where nobody sees them).
    """

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.id = f"{owner}#{next(_numbers)}"
        self.ended = False

    def end(self) -> None:
        """Run the values' ``session_end`` hooks once, last in first out (idempotent)."""
        if self.ended:
            return
        self.ended = True
        for value in reversed(list(self.values())):
            hook = getattr(value, "session_end", None)
            if callable(hook):
                try:
                    hook()
                except Exception:  # noqa: BLE001 - one hook's failure must not skip the others
                    _logger.exception("session_end of %r in stub session %s failed", value, self.id)

    def __repr__(self) -> str:
        return f"<StubSession {self.id}{' ended' if self.ended else ''} {dict(self)!r}>"

    # a session is one connection's identity: equal only to itself, and usable as a key
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]
