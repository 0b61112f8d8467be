"""The Kyoukai adapter: asyncio HTTP/1.1 apps (werkzeug routing, asphalt components).

Kyoukai 2.2.1.post1 runs on Python 3.11 only installed ``--no-deps`` next to newer dependencies and
with a one-line runtime shim (:mod:`.compat`); :func:`.host.require_kyoukai` applies it and explains
any other install (docs: the exact commands are :data:`.host.INSTALL_COMMANDS`). The published
wheel answers every error whose handler keeps the status (404, 405, ``abort``, an unhandled
exception) with a canned ``HTTP/1.0 500`` page: rpctest reproduces and reports that, never fixes it.

* :func:`serve_async` / :func:`serve`: the real app under a real ``KyoukaiComponent`` on 127.0.0.1
  port 0, on the running loop or a background thread's, or without a socket (``transport="local"``);
* :class:`LocalTransport` / :class:`LocalSyncTransport`: httpx transports that drive the app's real
  HTTP backend over memory (``httpx.AsyncClient(transport=LocalTransport(app), base_url="http://app")``);
* :mod:`.errors`: HTTP statuses as :class:`~rpctest.model.ErrorKind`.

Vocabulary: a Kyoukai *app* is rpctest's service, a *route* its operation, named ``"METHOD /path"``
or by its endpoint (``"blueprint.function"``); the body is JSON; an error is the HTTP status.
Importing this module imports no Kyoukai, no werkzeug and no httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from rpctest.exceptions import StubUsageError
from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf
from rpctest.stacks.kyoukai import errors as kyoukai_errors

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacks.kyoukai.host import KyoukaiService
    from rpctest.strategies.defects import Defect, Expected
    from rpctest.stubs.router import StubRouter

__all__ = [
    "adapter",
    "KyoukaiAdapter",
    "LocalSyncTransport",
    "LocalTransport",
    "require_kyoukai",
    "serve",
    "serve_async",
    "version_problem",
]

#: statuses Kyoukai and werkzeug answer for any route (routing, bad requests, server errors)
_STANDARD_STATUSES = frozenset({400, 404, 405, 413, 500})


class KyoukaiWire(WireHalf):
    """Kyoukai speaks plain HTTP/1.1; rpctest's wire client and stub server for it come later."""


class KyoukaiHost(HostHalf):
    library = "kyoukai"
    extra = "kyoukai"

    def require(self, module: str | None = None) -> Any:
        """Kyoukai with rpctest's shim applied, or a StackUnavailable with the exact install commands."""
        from rpctest.stacks.kyoukai.host import require_kyoukai

        kyoukai = require_kyoukai()
        return kyoukai if module is None else super().require(module)

    def serve(self, provider: Any, **options: Any) -> "KyoukaiService":
        """Serve an app (or a factory, or ``"module:object"``) on a background thread; see :func:`.host.serve`."""
        from rpctest.stacks.kyoukai.host import serve

        return serve(provider, **options)

    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        """Nothing to intercept: Kyoukai ships no client library (its callers speak HTTP)."""
        return lambda: None

    def version_problem(self) -> str | None:
        """What is wrong with this environment's Kyoukai install, with the fix (for ``rpctest doctor``)."""
        from rpctest.stacks.kyoukai.host import version_problem

        return version_problem()


class KyoukaiAdapter(StackAdapter):
    name = "kyoukai"
    title = "Kyoukai"
    capabilities = Capabilities(sync_client=True, async_client=True)
    standard_error_codes = _STANDARD_STATUSES
    null_body_sendable = False  # a body of None is sent as no body at all
    wire = KyoukaiWire()
    host = KyoukaiHost()

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        return kyoukai_errors.classify(code, field=field, **native)

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        try:
            status = kyoukai_errors.status_number(code)
        except ValueError:
            status = -1
        if not 300 <= status <= 599:
            raise StubUsageError(f"a Kyoukai error is an HTTP status from 300 to 599 (e.g. 404, 409, 500), not {code!r}")
        if field is not None:
            raise StubUsageError("Kyoukai errors carry no field: an HTTP error is its status (put details in the message)")
        return super().make_error(status, message, **details)

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """A 4xx (any: Kyoukai has no validation of its own; the app's views decide)."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.CALLER_ERROR, None, check_field=False)

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """404 (no such path) or 405 (no such method on that path), Kyoukai's own routing answers.

        Kyoukai 2.2.1.post1 answers both with its canned 500 instead: that deviation is what
        rpctest reports about the published wheel.
        """
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.NOT_FOUND, None, frozenset({404, 405}), check_field=False)

    def reply_from_native(self, value: Any) -> Reply | None:
        """An ``httpx.Response`` (what a side effect may return) as a neutral reply."""
        if type(value).__name__ == "Response" and type(value).__module__.startswith("httpx"):
            from rpctest.stacks.kyoukai.host import reply_from_response

            return reply_from_response(value)
        return None


adapter = KyoukaiAdapter()


def require_kyoukai() -> Any:
    """Import Kyoukai with the shim applied, or raise StackUnavailable with the exact install commands."""
    from rpctest.stacks.kyoukai.host import require_kyoukai as require

    return require()


def version_problem() -> str | None:
    """None when this environment's Kyoukai is usable by rpctest, else what is wrong and the fix."""
    from rpctest.stacks.kyoukai.host import version_problem as problem

    return problem()


def serve(provider: Any, **options: Any) -> "KyoukaiService":
    """Serve a Kyoukai app on a background thread's loop; see :func:`.host.serve`."""
    return adapter.host.serve(provider, **options)


def serve_async(provider: Any, **options: Any) -> Any:
    """``async with serve_async(app_or_factory) as service``: on the running loop; see :func:`.host.serve_async`."""
    from rpctest.stacks.kyoukai.host import serve_async as start

    return start(provider, **options)


def __getattr__(name: str) -> Any:
    """``LocalTransport`` and ``LocalSyncTransport`` load httpx only when asked for."""
    if name in ("LocalTransport", "LocalSyncTransport"):
        from rpctest.stacks.kyoukai import transport

        return getattr(transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
