"""The AsyncAPY adapter: AsyncAProto over TCP, spoken by rpctest itself; no AsyncAPY needed.

AsyncAPY (LGPL-3.0, not on PyPI) is never imported by this package and none of its code is in it:
:mod:`.wire` (framing, and what AsyncAPY's server makes of a request body), :mod:`.ziproto` (the
ZiProto payload encoding, with ziproto 1.0's limits), :mod:`.errors` (codes and ErrorKind),
:mod:`.client` (asyncio client and blocking wrapper) and :mod:`.stub_server` (a server that answers
from stubs exactly as AsyncAPY's server answers) are clean-room, from AsyncAPY 0.5.0's observed
behaviour (``docs/stacks/asyncapy.md``) and the golden vectors recorded from it. The host half
(:mod:`.host`, :mod:`.schema`) runs a user's real AsyncAPY server in-process under trio and exports
its contract from the handlers' ``Fields``; it imports ``asyncapy`` and ``trio`` only when used.

**Operations.** Nothing on AsyncAPY's wire names an operation: its server hands each packet to the
handlers whose ``Filters.Fields(field=regex, ...)`` pass. A stub therefore keys on an operation
name the user chooses, and ``match=`` says which packets it is for, as ``Fields`` does::

    stub_action("shop", "add", stack="asyncapy", match={"action": r"add$", "a": r"-?\\d+$", "b": r"-?\\d+$"},
                side_effect=lambda p: {"status": "ok", "sum": int(p["a"]) + int(p["b"])})

The rule (:meth:`AsyncAPYAdapter.match_differences`) is ``Fields``': the packet's keys must be
exactly the named ones; a pattern of None only requires the key; otherwise ``re.match(pattern,
str(value))``, anchored at the start only (``"echo"`` matches ``"echoes"``; end it with ``$``). A
stub without ``match=`` takes its patterns from ``[tool.rpctest.services.NAME] match.OPERATION`` in
the configuration, and without those it matches every packet (an AsyncAPY handler with no filter).
``match=`` may also be a predicate on the packet (for what ``APIFactory`` checks).

**Replies.** ``body`` is the reply packet (a JSON-serialisable mapping, as AsyncAPY's ``Packet``
requires); ``items=[...]`` sends several packets; ``errors=`` sends failure packets
``{"status": "failure", "error": CODE}`` (the four framework codes, or an application's own);
``delay=`` (seconds) holds the reply back, to run into the server's timeout. No body, no items
and no errors sends nothing: the connection is closed silently, as AsyncAPY closes it when a
handler sends nothing; ``errors=["CLOSED_WITHOUT_REPLY"]`` says the same and records it in
consumer contracts the way a wire client sees it.

**Silent close in the neutral model.** AsyncAPY answers one bad field, an unknown operation, a
failed API-key check and a handler that raises all the same way: it closes the connection without
a byte. rpctest's client turns that into one error of code ``CLOSED_WITHOUT_REPLY``, kind
``transport`` (distinct from a timeout, which raises ``CallTimeout``). The fuzz oracle's answer to a
defect or an unknown operation is therefore ``Expected(TRANSPORT, codes={"CLOSED_WITHOUT_REPLY"},
check_field=False)``: the field cannot be checked (nothing names it), and a reply, an error packet
or a timeout are all deviations. A correct AsyncAPY service's silence is its *documented* answer,
so a fuzz run must take that expected transport error as the answer rather than as a lost one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from rpctest.exceptions import ConfigError, StubUsageError
from rpctest.model import ErrorKind, RpcError
from rpctest.stacks.asyncapy import errors as asyncapy_errors
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacklogs import StackLogs
    from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient
    from rpctest.stacks.asyncapy.host import AsyncAPYService
    from rpctest.stacks.asyncapy.stub_server import AsyncAPYStubServer
    from rpctest.contracts.format import ProviderContract
    from rpctest.strategies.defects import Defect, Expected, Routed
    from rpctest.stubs.router import Stub, StubRouter

__all__ = ["adapter", "AsyncAPYAdapter", "handler_schema", "isolated_server", "serve", "stub_patterns", "serve_stubs"]

STACK = "asyncapy"


#: the connection timeout (whole seconds) a server gets in a framing run's child process
FRAMING_SERVER_TIMEOUT = 2


class AsyncAPYWire(WireHalf):
    """AsyncAProto without AsyncAPY: codec, asyncio client (and blocking wrapper), stub server."""

    def client(self, address: str, *, service: str | None = None, timeout: float = 5.0, **options: Any) -> "AsyncAPYSyncClient":
        """A blocking :class:`~.client.AsyncAPYSyncClient` for ``asyncapy://HOST:PORT[?framing]``
        (``framing=``, ``record=True``)."""
        from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient

        return AsyncAPYSyncClient.from_address(address, service=service, timeout=timeout, **options)

    def stub_server(self, router: "StubRouter", *, address: str | None = None, **options: Any) -> "AsyncAPYStubServer":
        """A running :class:`~.stub_server.AsyncAPYStubServer` on its own thread (127.0.0.1, a free
        port, unless ``address`` says otherwise; ``timeout=``, ``session_limit=``, ``framing=``...)."""
        from rpctest.stacks.asyncapy.stub_server import serve_stubs as start

        return start(router, address=address, **options)


class AsyncAPYHost(HostHalf):
    """The user's real AsyncAPY server in-process (:mod:`.host`): under trio on a thread of its own,
    on 127.0.0.1 port 0 or without a socket; contracts from its handlers' ``Fields`` (:mod:`.schema`)."""

    library = "asyncapy"
    extra = "asyncapy"

    def require(self, module: str | None = None) -> Any:
        """Import ``asyncapy`` (with trio), or say how to install it: from git, with ziproto."""
        from rpctest.stacks.asyncapy.host import require_asyncapy

        if module is None:
            return require_asyncapy()
        return super().require(module)

    def serve(self, provider: Any, **options: Any) -> "AsyncAPYService":
        """The server (an ``asyncapy.Server``, a factory, or ``"module:object"``) running in-process:
        ``transport="tcp"`` (127.0.0.1 port 0, the default) or ``"local"`` (memory streams)."""
        from rpctest.stacks.asyncapy.host import serve

        return serve(provider, **options)

    def export_schema(self, provider: Any, **options: Any) -> dict[str, Any]:
        """One operation per handler, its request from ``Fields`` (see :mod:`.schema`)."""
        from rpctest.stacks.asyncapy.schema import export_provider

        return export_provider(provider, **options)

    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        """Nothing to intercept: AsyncAPY's own client opens TLS sockets; stubs answer over the wire
        (the stub server), where any AsyncAProto client can reach them."""
        return lambda: None

    def export_from_address(
        self, address: str, service: str | None = None, *, timeout: float = 5.0, credentials: Any = None
    ) -> Mapping[str, Any]:
        raise ConfigError(
            f"AsyncAPY has no introspection, so the handlers at {address} cannot be exported from the running "
            f"server; export the contract from the code (--provider MODULE:SERVER) and pass it with --contract FILE"
        )

    log_names = ("rpctest.asyncapy.host",)

    def capture_logs(self, logs: "StackLogs") -> Callable[[], None]:
        """AsyncAPY logs every connection on the root logger: those records go to ``logs``, the
        root logger's other records stay where they were going."""
        from rpctest.stacks.asyncapy.host import divert_logs

        undo_root = divert_logs(logs.handler)
        undo_logging = super().capture_logs(logs)

        def undo() -> None:
            undo_logging()
            undo_root()

        return undo


def stub_patterns(stub: "Stub") -> Any:
    """The packet patterns of an AsyncAPY stub: its ``match=``, else the configured
    ``[tool.rpctest.services.SERVICE] match.ACTION``, else None (it matches every packet)."""
    if stub.match is not None:
        return stub.match
    from rpctest import config

    entry = config.current().services.get(stub.service)
    patterns = entry.match if entry is not None and entry.match else None
    return patterns.get(stub.action) if patterns is not None else None


class AsyncAPYAdapter(StackAdapter):
    name = STACK
    title = "AsyncAPY / AsyncAProto"
    capabilities = Capabilities(sync_client=True, async_client=True)
    standard_error_codes = asyncapy_errors.STANDARD_CODES
    #: a null packet makes AsyncAPY's server hang until its timeout: not a request worth generating
    null_body_sendable = False
    stub_options = frozenset({"items", "delay"})
    #: AsyncAProto has no authentication, headers or context: a packet's fields are the whole request
    #: and its filters route on them, so extra fields would change which handler answers
    credential_options: frozenset[str] = frozenset()
    credential_note = "AsyncAProto has no authentication or request context: a packet's fields are the request; put them in its request schema"
    #: packets are maps: a defect never replaces the whole packet (framing fuzz covers non-maps)
    min_defect_depth = 1
    #: a packet no handler should match (an empty one is refused as malformed before any routing)
    unknown_operation_body = {"rpctest_no_such_operation": "probe"}
    wire = AsyncAPYWire()
    host = AsyncAPYHost()

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        return asyncapy_errors.classify(code, field=field, **native)

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        """An AsyncAPY error: a string code (the packet's ``error``); no field, and the message is not sent."""
        if not isinstance(code, str) or not code:
            raise StubUsageError(
                f"AsyncAPY error codes are the strings of a failure packet's 'error' "
                f"({', '.join(sorted(asyncapy_errors.STANDARD_CODES))}, or an application's own), not {code!r}"
            )
        if field is not None:
            raise StubUsageError("AsyncAPY failure packets name no field: {'status': 'failure', 'error': CODE} is all there is")
        return super().make_error(code, message, **details)

    def normalize_error(self, item: Any) -> RpcError:
        """As the base, plus AsyncAPY's own failure packet ``{"status": "failure", "error": CODE}``."""
        if asyncapy_errors.is_error_packet(item) and "code" not in item:
            return self.make_error(item["error"])
        return super().normalize_error(item)

    def check_body(self, body: Any) -> None:
        if body is None:
            return
        if not isinstance(body, Mapping):
            raise StubUsageError(
                f"an AsyncAPY stub body is the reply packet, a mapping (AsyncAPY's Packet is a JSON object), not "
                f"{type(body).__name__}: {body!r:.80}; several packets go in items=[...], none is no body at all"
            )
        try:
            json.dumps(body)
        except (TypeError, ValueError) as exc:
            raise StubUsageError(f"an AsyncAPY reply packet must be JSON-serialisable, as AsyncAPY's Packet requires: {exc}") from None

    def match_differences(self, match: Any, body: Any) -> list[str]:
        """How the packet ``body`` fails the patterns, as ``Filters.Fields`` decides (empty: it matches).

        ``match`` maps each field name to a regular expression (a string or compiled pattern) or
        None; the packet must have exactly those keys, and each pattern must ``re.match`` the
        ``str()`` of its value. A callable ``match`` is a predicate on the packet.
        """
        if callable(match) and not isinstance(match, Mapping):
            return super().match_differences(match, body)
        if not isinstance(match, Mapping):
            return [f"match= for AsyncAPY maps field names to regular expressions (or None), as Fields does; not {match!r}"]
        if not isinstance(body, Mapping):
            return [f"the packet is a {type(body).__name__}, not a map"]
        diffs = [f"the packet has no {key!r} (the stub's fields name it)" for key in match if key not in body]
        diffs += [
            f"the packet has {key!r}, which the stub's fields do not name (Fields needs exactly the named keys)"
            for key in body
            if key not in match
        ]
        for key, pattern in match.items():
            if key not in body or pattern is None:
                continue
            text = str(body[key])
            try:
                found = re.match(pattern, text)
            except (re.error, TypeError) as exc:
                diffs.append(f"the stub's pattern for {key!r}, {pattern!r}, is not a regular expression: {exc}")
                continue
            if found is None:
                shown = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
                diffs.append(f"{key!r} is {body[key]!r}, and re.match({shown!r}, {text!r}) fails")
        return diffs

    def framing_host(self, provider: Any) -> Any:
        """A child process (:class:`.process.ServerProcess`) with a 2 s server timeout: AsyncAPY
        spins or holds connections on malformed frames, which a child lets rpctest measure and kill."""
        from rpctest.stacks.asyncapy.process import ServerProcess
        from rpctest.fuzz.target import provider_spec

        return ServerProcess(provider_spec(provider), server_timeout=FRAMING_SERVER_TIMEOUT).start()

    def framing_fuzz(
        self, address: str, *, service: str, operation: Any, args: Any, timeout: float, strict: bool = False, hosted: Any = None,
        budget: float | None = None,
    ) -> Any:
        """AsyncAPY's framing cases (:mod:`.framing`); against a child process rpctest started, its
        CPU and session table are watched too."""
        from rpctest.stacks.asyncapy.framing import fuzz_framing
        from rpctest.stacks.asyncapy.process import ServerProcess

        process = hosted if isinstance(hosted, ServerProcess) else None
        return fuzz_framing(
            address, args if isinstance(args, Mapping) else {}, timeout=timeout, strict=strict, budget=budget,
            server_timeout=process.server_timeout if process is not None else None, process=process,
        )

    def garbage_target(self, address: str, probe: Any, *, timeout: float = 5.0, **options: Any) -> Any:
        """Random malformed connections for the endpoint (:class:`.framing.GarbageTarget`); ``probe``'s
        body is a packet it answers."""
        from rpctest.stacks.asyncapy.framing import GarbageTarget

        return GarbageTarget(address, probe, timeout=timeout, **options)

    def route_request(self, body: Any, contract: "ProviderContract") -> "Routed":
        """AsyncAPY routes by filters: the frame's own verdict first (a packet under 5 bytes, ``{}``,
        is ``ERR_REQUEST_MALFORMED``), then the first handler per group whose ``Fields`` take it
        (:mod:`.dispatch`); no handler at all is the silent close."""
        from rpctest.stacks.asyncapy.dispatch import route

        return route(body, contract)

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """No handler matches, so the connection closes silently: ``CLOSED_WITHOUT_REPLY`` (transport), no field."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.TRANSPORT, None, frozenset({asyncapy_errors.CLOSED_WITHOUT_REPLY}), check_field=False)

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """The same silent close: AsyncAPY cannot tell an unknown operation from a bad field."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.TRANSPORT, None, frozenset({asyncapy_errors.CLOSED_WITHOUT_REPLY}), check_field=False)


adapter = AsyncAPYAdapter()


def serve_stubs(router: "StubRouter | None" = None, **options: Any) -> "AsyncAPYStubServer":
    """A started AsyncAPY stub server (the process-wide router by default); see :mod:`.stub_server`."""
    from rpctest.stacks.asyncapy.stub_server import serve_stubs as start
    from rpctest.stubs.router import router as default_router

    return start(router if router is not None else default_router, **options)


def serve(provider: Any, **options: Any) -> "AsyncAPYService":
    """Host a real AsyncAPY server in-process (see :func:`.host.serve`)."""
    return adapter.host.serve(provider, **options)


def isolated_server(**options: Any) -> Any:
    """An ``asyncapy.Server`` with handlers and sessions of its own (see :func:`.host.isolated_server`)."""
    from rpctest.stacks.asyncapy.host import isolated_server as build

    return build(**options)


def handler_schema(response: Any = None, **options: Any) -> Any:
    """Declare a handler's reply schema and failure codes (see :func:`.schema.handler_schema`)."""
    from rpctest.stacks.asyncapy.schema import handler_schema as declare

    return declare(response, **options)
