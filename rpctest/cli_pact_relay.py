"""The ``rpctest pact-relay`` command: put the real provider behind :class:`~rpctest.contracts.pact_relay.PactRelay`
and print what to give ``pact verifier``. Registered with :func:`rpctest.cli.command`; imports
nothing heavy until it runs, so ``rpctest --help`` stays fast."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any, Iterator

from rpctest.cli import EXIT_OK, _add_target, _address_service, _credentials, _stack_for, _state_handlers, _usage, command

__all__: list[str] = []


@command
def _register_pact_relay(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pact-relay",
        help="let the real pact verifier verify a provider of any stack (message and provider-state endpoints)",
        description=(
            "Serve pact verifier's message protocol and provider-state protocol on HTTP and forward each request "
            "message to the real provider (--provider MODULE:OBJECT hosted in-process, or --address of a running one) "
            "over its own transport, answering the rpctest response object its reply is. Provider states are set up "
            "by the @rpctest.provider_state handlers of --states modules. For a provider that speaks HTTP itself "
            "(Kyoukai: Synchronous/HTTP pacts) the verifier calls it directly and the relay serves only the states. "
            "Prints the URLs and the pact verifier arguments, then serves until interrupted."
        ),
        epilog="exit status: 0 stopped by a signal, 2 usage or configuration error (a provider that cannot be started or reached), 3 internal error",
    )
    _add_target(parser, what="the provider to verify")
    parser.add_argument("--states", action="append", metavar="MODULE",
                        help="import MODULE's @rpctest.provider_state handlers (repeatable; adds to the service's states = [...])")
    parser.add_argument("--setup", metavar="MODULE:FUNCTION", help="called as f(operation, request) before each message is forwarded")
    parser.add_argument("--host", default="127.0.0.1", help="the relay's address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, metavar="N", help="the relay's port (default 0: any free port)")
    parser.set_defaults(handler=_run_pact_relay)


def _run_pact_relay(args: argparse.Namespace) -> int:
    import signal
    import threading

    from rpctest.contracts.export import import_object
    from rpctest.contracts.live import open_provider
    from rpctest.contracts.pact_relay import PactRelay
    from rpctest.stacks import get_adapter

    if not args.provider and not args.address:
        raise _usage("pact-relay needs the provider: --provider MODULE:OBJECT (hosted here) or --address ADDRESS (running)")
    if not 0 <= args.port <= 65535:
        raise _usage(f"--port must be 0 (any free port) to 65535, not {args.port}")
    stack = _stack_for(args)
    adapter = get_adapter(stack)
    provider = import_object(args.provider) if args.provider else None
    service = args.service or getattr(provider, "service_name", None) or _address_service(args.address)
    handlers = _state_handlers(args.states, service)
    setup = import_object(args.setup) if args.setup else None
    http = adapter.pact_interaction_type == "Synchronous/HTTP"
    with _logging_to_stderr("rpctest.pact_relay"), \
            open_provider(stack, provider=provider, address=args.address, service=service, timeout=args.timeout,
                          credentials=_credentials(args, stack, service)) as opened:
        relay = PactRelay(stack, None if http else opened.send, handlers=handlers, service=service, setup=setup,
                          host=args.host, port=args.port)
        with relay:
            # installed last: a provider's stack may set its own handlers while it starts
            done = threading.Event()
            previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                _announce(relay, stack, service, opened.address if http else None)
                done.wait()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    return EXIT_OK


@contextlib.contextmanager
def _logging_to_stderr(name: str) -> Iterator[None]:
    """The relay's own log on stderr while it runs: each forwarded message and state change. Only
    its own: the provider's stack logs every request at INFO, which would bury it."""
    import logging

    logger = logging.getLogger(name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rpctest pact-relay: %(levelname)s %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _announce(relay: Any, stack: str, service: str | None, http_address: str | None) -> None:
    """The URLs, one per line on stdout (a script reads them), and the verifier's command line."""
    if http_address is not None:
        print(f"rpctest pact-relay: {stack} provider (Synchronous/HTTP, called by the verifier directly) at {http_address}")
    else:
        print(f"rpctest pact-relay: messages at {relay.message_url}")
    print(f"rpctest pact-relay: provider states at {relay.state_url}")
    arguments = " ".join(relay.verifier_arguments(http_address))
    print(f"rpctest pact-relay: pact verifier -f PACT.json -n {service or 'PROVIDER'} {arguments}", flush=True)
