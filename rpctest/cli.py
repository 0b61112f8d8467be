"""The ``rpctest`` command line.

Exit codes, the same for every command so CI can tell them apart: 0 pass, 1 findings, 2 usage or
configuration error, 3 internal error. :func:`main` returns them instead of raising, so it can be
called in-process.

Each subcommand is one registration function decorated with :func:`command`: it adds its parser and
sets ``handler`` to a function ``(args) -> exit code``. Handlers import what they need when they run,
so ``rpctest --help`` never pays for the doctor, jsonschema or any stack library.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Sequence

from rpctest._version import __version__
from rpctest.contracts.source_args import SOURCES_HELP, add_broker_options, broker_query, settle_broker_verification

__all__ = ["main", "build_parser", "command", "EXIT_OK", "EXIT_FINDINGS", "EXIT_USAGE", "EXIT_INTERNAL"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[[Any], None]  # receives the subparsers object of ``build_parser``

_COMMANDS: list[Registrar] = []

_EPILOG = "exit status: 0 ok, 1 findings, 2 usage or configuration error, 3 internal error"
#: the formats of rpctest.report (not imported here: ``rpctest --help`` stays cheap)
REPORT_FORMATS = ("text", "json", "junit", "github", "markdown")


def command(register: Registrar) -> Registrar:
    """Register a subcommand: ``register(subparsers)`` adds a parser with ``handler`` set."""
    _COMMANDS.append(register)
    return register


# --------------------------------------------------------------------------------------------------
# subcommands


@command
def _register_doctor(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="show which stacks are usable here and how to fix bad installs",
        description=(
            "Report rpctest's environment and, for each stack, whether it is usable, missing or "
            "broken, with the fix for each known bad install."
        ),
        epilog="exit status: 0 when every installed stack is usable, 1 when one is broken",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_run_doctor)


def _run_doctor(args: argparse.Namespace) -> int:
    import json

    from rpctest import doctor

    reports = doctor.diagnose()
    if args.json:
        print(json.dumps(doctor.to_json(reports), indent=2))
    else:
        sys.stdout.write(doctor.render(reports))
    return EXIT_FINDINGS if doctor.has_errors(reports) else EXIT_OK


@command
def _register_constraints(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "constraints",
        help="print the pip constraints of a stack's tested environment (--path: the file's path)",
        description=(
            "Print the pip constraints file of the environment rpctest is tested with for STACK, so that "
            "installing the stack's extra keeps the stack's own pins: "
            'pip install -c "$(rpctest constraints pysoa --path)" "rpctest[pysoa] @ SOURCE". '
            "zerojson and asyncapy need no pins: their files hold only comments."
        ),
        epilog="exit status: 0 printed, 2 unknown stack",
    )
    # not "stack": main() would quiet (and so import) that stack's adapter, which an rpctest installed
    # --no-deps, before the extra, cannot do
    parser.add_argument("constraints_stack", metavar="STACK", help="pysoa, pykern, zerojson, kyoukai or asyncapy")
    parser.add_argument("--path", action="store_true", help="print the file's path instead of its contents")
    parser.set_defaults(handler=_run_constraints)


def _run_constraints(args: argparse.Namespace) -> int:
    from rpctest import constraints

    stack = args.constraints_stack
    if args.path:
        print(constraints.path(stack))
        return EXIT_OK
    sys.stdout.write(constraints.text(stack))
    if not constraints.pins(stack):
        print(f"rpctest: {stack.lower()} needs no pins: this constraints file holds only comments", file=sys.stderr)
    return EXIT_OK


def _add_target(parser: argparse.ArgumentParser, *, what: str) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--provider", metavar="MODULE:OBJECT", help=f"{what} in-process (e.g. myservice.server:Server)")
    target.add_argument("--address", metavar="ADDRESS", help=f"{what} at a running endpoint (as the stack spells it)")
    parser.add_argument("--service", help="the service name, where the address does not say it")
    parser.add_argument("--stack", help="the provider's stack (default: from [tool.rpctest.services])")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each reply (default 5)")
    _add_credentials(parser)


def _add_credentials(parser: argparse.ArgumentParser) -> None:
    """What every call to the target carries besides the request (rpctest.credentials maps it to the stack)."""
    group = parser.add_argument_group("credentials and request context (also [tool.rpctest.services.NAME]; secrets are masked)")
    group.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="an HTTP header on every request (Kyoukai; repeatable)")
    group.add_argument("--token", metavar="VALUE", help="the stack's own token: pykern's handshake, ZeroJSON's org.pycom.auth, an HTTP bearer token")
    group.add_argument("--auth", metavar="USER:PASSWORD", help="HTTP basic auth (Kyoukai)")
    group.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                       help="PySOA request context (repeatable; VALUE is JSON or text; switches=1,2 adds switches)")
    group.add_argument("--switch", action="append", default=[], type=int, metavar="N", help="a PySOA switch (repeatable)")


def _credentials(args: argparse.Namespace, stack: str, service: str | None, address: str | None = None) -> Any:
    """The command line's credentials over those of the target's [tool.rpctest.services] entry (an
    in-process --provider gets the command line's only), checked against what ``stack`` can carry
    (``address``: the target's, default ``--address``)."""
    from rpctest import credentials

    given = credentials.from_options(headers=args.header, token=args.token, auth=args.auth, context=args.context, switches=args.switch)
    address = None if getattr(args, "provider", None) else address or getattr(args, "address", None)
    return credentials.for_target(stack, given, address=address, service=service)


def _address_service(address: str | None) -> str | None:
    """The service an address names itself (``redis://host:port/db#service.NAME``), if it does."""
    if address and "#service." in address:
        return address.rsplit("#service.", 1)[1]
    return None


def _stack_for(args: argparse.Namespace) -> str:
    from rpctest.contracts.export import import_object, infer_stack
    from rpctest.exceptions import ConfigError

    stack = args.stack or infer_stack(args.provider, args.address, args.service or _address_service(args.address))
    if not stack:
        if args.provider:
            import_object(args.provider)  # a provider that cannot be imported says so before anything else
        raise ConfigError("give --stack (no [tool.rpctest.services] entry names this provider, address or service)")
    _quiet_stack_logs(stack)
    return stack


@command
def _register_contracts(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "contracts",
        help="export provider contracts, verify consumer contracts against them, diff two versions",
        description="Consumer-driven contracts: export a provider's schema, verify recorded consumer contracts, diff two versions of a provider contract.",
        epilog=_EPILOG,
    )
    actions = parser.add_subparsers(dest="contracts_command", metavar="ACTION", required=True)

    export = actions.add_parser(
        "export",
        help="write a provider contract from the provider's own schema declarations",
        description="Export a provider's operations (request/response schemas, error codes) as a provider contract; with --format pact, the recorded consumer contracts as Pact V4 files.",
        epilog=_EPILOG,
    )
    _add_target(export, what="the provider")
    export.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of standard output (--format pact: a directory, default pacts/, or FILE.json for one contract)")
    export.add_argument(
        "--format", choices=("contract", "openapi", "pact"), default="contract",
        help="an rpctest provider contract (default), an OpenAPI 3.1 document (HTTP stacks: Kyoukai), or the consumer contracts as Pact V4 files",
    )
    export.add_argument("--consumers", action="append", metavar="PATH", help="--format pact: consumer contracts to export (repeatable; default: the contracts dir's consumers/)")
    export.add_argument("--exact", action="store_true", help="--format pact: no default type rules (Pact compares unmarked values by equality)")
    export.set_defaults(handler=_run_export)

    verify = actions.add_parser(
        "verify",
        help="check consumer contracts against provider contracts (and, with --live, the real provider)",
        description=(
            "Check every consumer contract under PATHS against the provider contracts under PATHS: requests "
            "against request schemas, stubbed bodies against response schemas, stubbed error codes against the "
            "codes the provider can produce. --live also replays the requests against a real provider."
        ),
        epilog=_EPILOG,
    )
    verify.add_argument("paths", nargs="*", metavar="PATH", help=f"contracts: {SOURCES_HELP} (default: the contracts dir)")
    verify.add_argument("--format", choices=REPORT_FORMATS, default="text", help="report format")
    verify.add_argument("-o", "--output", metavar="FILE", help="write the report here (the summary still goes to stderr)")
    verify.add_argument("--live", action="store_true", help="also replay consumer requests against --provider or --address")
    verify.add_argument("--exact", action="store_true", help="with --live: compare body values, not only their shape")
    verify.add_argument("--setup", metavar="MODULE:FUNCTION", help="with --live: called as f(operation, request) before each replay")
    verify.add_argument("--states", action="append", metavar="MODULE",
                        help="with --live: import MODULE's @rpctest.provider_state handlers (repeatable; adds to the service's states = [...])")
    _add_target(verify, what="with --live: the real provider")
    add_broker_options(verify, results=True)
    verify.set_defaults(handler=_run_verify)

    diff = actions.add_parser(
        "diff",
        help="classify every change between two provider contracts as breaking or not (--consumers: for whom)",
        description=(
            "Compare the OLD provider contract with NEW (a file, git:REF:PATH for a file at a revision of this "
            "repository, or, without NEW, the live export of --provider/--address): every change per operation and "
            "JSON pointer, with the rule that classified it. Breaking changes are errors; with --consumers, only "
            "those a recorded consumer interaction relies on are errors (naming it), the others warnings."
        ),
        epilog="exit status: 0 no breaking change (warnings allowed), 1 breaking change, 2 usage error, 3 internal error",
    )
    diff.add_argument("old", metavar="OLD", help="the provider contract before: a file, git:REF:PATH or git+URL@REF#PATH")
    diff.add_argument("new", nargs="?", metavar="NEW", help="the provider contract after (default: exported from --provider/--address)")
    diff.add_argument("--consumers", action="append", metavar="DIR", help=f"consumer contracts: {SOURCES_HELP} (repeatable)")
    diff.add_argument("--format", choices=REPORT_FORMATS, default="text", help="report format")
    diff.add_argument("-o", "--output", metavar="FILE", help="write the report here (the summary still goes to stderr)")
    _add_target(diff, what="without NEW: export NEW from the provider")
    add_broker_options(diff)
    diff.set_defaults(handler=_run_diff)

    migrate = actions.add_parser(
        "migrate",
        help="rewrite contract files of an older format version as the current one",
        description=(
            "Rewrite every contract file under PATHS whose format version is older than this rpctest's (format 1 "
            "becomes 2, which adds provider states). Older files still load without it; the next recording or "
            "export also writes the current version. --check only reports (exit 1 if a file needs migrating)."
        ),
        epilog=_EPILOG,
    )
    migrate.add_argument("paths", nargs="*", metavar="PATH", help="contract files or directories (default: the contracts dir)")
    migrate.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if any file is of an older format")
    migrate.set_defaults(handler=_run_migrate)

    from rpctest.contracts.publish import register as register_publish

    register_publish(actions)


def _run_export(args: argparse.Namespace) -> int:
    from rpctest.contracts import format as fmt
    from rpctest.contracts.export import export

    if args.format == "pact":
        from rpctest.contracts.pact_export import run

        return run(args)
    if not args.provider and not args.address:
        raise _usage("contracts export needs --provider MODULE:OBJECT or --address ADDRESS")
    stack = _stack_for(args)
    contract = export(stack, provider=args.provider, address=args.address, service=args.service, timeout=args.timeout,
                      credentials=_credentials(args, stack, args.service or _address_service(args.address)))
    if args.format == "openapi":
        return _write_openapi(contract, args.output)
    if args.output:
        path = fmt.write(contract, args.output)
        print(f"rpctest: wrote the provider contract of {contract.stack}:{contract.service} "
              f"({len(contract.operations)} operations) to {path}", file=sys.stderr)
    else:
        sys.stdout.write(fmt.dump(contract))
    return EXIT_OK


def _write_openapi(contract: Any, output: str | None) -> int:
    import json

    from rpctest.contracts import format as fmt
    from rpctest.exceptions import ConfigError
    from rpctest.stacks import get_adapter

    try:
        document = get_adapter(contract.stack).to_openapi(contract)
    except ConfigError as exc:
        raise _usage(str(exc)) from None
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if output:
        fmt.write_text_atomic(output, text)
        print(f"rpctest: wrote the OpenAPI 3.1 document of {contract.stack}:{contract.service} to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _run_verify(args: argparse.Namespace) -> int:
    from rpctest import config
    from rpctest.contracts.sources import load_sources
    from rpctest.contracts.verify import verify

    _check_outputs(args.output)
    paths = args.paths or [config.current().contracts_dir]
    broker = broker_query(args)
    pacts: list[Any] = []
    contracts = load_sources(paths, broker=broker, pacts=pacts)
    report = verify(contracts)
    if args.live:
        live, provider = _live_report(args, contracts)
        report.add_live(live, provider)
    elif args.provider or args.address:
        raise _usage("--provider/--address are for --live verification; add --live")
    elif args.states or args.setup:
        raise _usage("--states/--setup set the provider up for --live verification; add --live and --provider or --address")
    settle_broker_verification(args, broker, pacts, report.findings)
    return _emit([report.run_report()], args.format, args.output)


def _run_diff(args: argparse.Namespace) -> int:
    from rpctest.contracts import format as fmt
    from rpctest.contracts.diff import diff, load_provider
    from rpctest.contracts.export import export
    from rpctest.contracts.sources import load_sources

    old = load_provider(args.old)
    if args.new is not None:
        if args.provider or args.address:
            raise _usage("give NEW or --provider/--address (whose export is NEW), not both")
        new = load_provider(args.new)
    elif args.provider or args.address:
        service = args.service or _address_service(args.address) or (old.service if args.address else None)
        stack = args.stack or old.stack
        new = export(stack, provider=args.provider, address=args.address, service=service, timeout=args.timeout,
                     credentials=_credentials(args, stack, service))
    else:
        raise _usage("contracts diff needs NEW, or --provider MODULE:OBJECT / --address ADDRESS to export it")
    consumers = None
    broker = broker_query(args)
    if args.consumers or broker is not None:
        consumers = [c for c in load_sources(args.consumers or [], broker=broker) if isinstance(c, fmt.ConsumerContract)]
    report = diff(old, new, consumers, old_label=args.old, new_label=args.new)
    return _emit([report.run_report()], args.format, args.output)


def _check_outputs(*paths: str | None) -> None:
    """Refuse report paths that cannot be written before a run starts, not after it (its findings lost)."""
    from rpctest.contracts.format import check_output_path

    for path in paths:
        if path:
            check_output_path(path)


def _emit(runs: list[Any], fmt: str, output: str | None) -> int:
    """Write the runs' report in ``fmt`` (to ``output``, the summaries then going to stderr), keep
    each run for ``rpctest report``, and return the exit status."""
    from rpctest.contracts.format import write_text_atomic
    from rpctest.report import render_many
    from rpctest.report.state import store

    text = _redact(render_many(runs, fmt))
    if output:
        write_text_atomic(output, text)
        for run in runs:
            print(_redact(run.summary), file=sys.stderr)
    else:
        sys.stdout.write(text)
    for run in runs:
        store(run)
    return max(int(run.exit_code) for run in runs)


def _run_migrate(args: argparse.Namespace) -> int:
    from rpctest import config
    from rpctest.contracts.migrate import migrate

    result = migrate(args.paths or [config.current().contracts_dir], check=args.check)
    for path, version in result.changed:
        print(f"{path}: format {version}" + (" (needs migrating)" if args.check else " -> migrated"))
    print(result.summary(args.check), file=sys.stderr)
    return 1 if args.check and result.changed else EXIT_OK


def _live_report(args: argparse.Namespace, contracts: list[Any]) -> tuple[Any, str]:
    from rpctest.contracts.export import import_object
    from rpctest.contracts.live import open_sender, verify_live

    if not args.provider and not args.address:
        raise _usage("--live needs --provider MODULE:OBJECT or --address ADDRESS")
    stack = _stack_for(args)
    provider = import_object(args.provider) if args.provider else None
    service = args.service or getattr(provider, "service_name", None) or _address_service(args.address)
    setup = import_object(args.setup) if args.setup else None
    handlers = _state_handlers(args.states, service)
    credentials = _credentials(args, stack, service)
    with open_sender(stack, provider=provider, address=args.address, service=service, timeout=args.timeout, credentials=credentials) as send:
        live = verify_live(contracts, send, stack=stack, service=service, exact=args.exact, setup=setup, states=handlers)
    replayed = sorted({f"{c.stack}:{c.service}" for c in live.consumers})
    return live, ", ".join(replayed) or f"{stack}:{service or '*'}"


def _state_handlers(modules: list[str] | None, service: str | None) -> Any:
    """The provider state handlers: those of ``--states`` and of the service's ``states = [...]``
    (and any the provider module registered when it was imported)."""
    from rpctest import config
    from rpctest.contracts.states import load_state_modules

    entry = config.current().services.get(service) if service else None
    configured = list(entry.states) if entry is not None else []
    return load_state_modules([*configured, *(modules or [])])


def _redact(text: str) -> str:
    """``text`` with the secrets this run was given masked (what a CLI prints or writes)."""
    from rpctest.credentials import redact

    return redact(text)


def _usage(message: str) -> Exception:
    from rpctest.exceptions import ConfigError

    return ConfigError(message)


@command
def _register_serve(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve recorded consumer interactions as a stub provider for other processes",
        description=(
            "Answer each request from the matching recorded interaction of the given consumer contracts, over the "
            "stack's own wire protocol; unmatched requests get the stack's not-found or caller error and a "
            "near-miss diagnostic on stderr. Prints the address, then serves until interrupted."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument("contracts", nargs="*", metavar="CONTRACT", help=f"consumer contracts: {SOURCES_HELP}")
    parser.add_argument("--stack", required=True, help="the stack whose wire protocol to serve")
    parser.add_argument("--address", help="where to serve (PySOA: redis://host:port/db; default: a private server)")
    parser.add_argument("--state", action="append", metavar="NAME",
                        help="serve as the provider in this state (repeatable): a request recorded under it answers as recorded "
                        "there; interactions recorded under other states are not served (default: those recorded under no state win)")
    add_broker_options(parser)
    parser.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from rpctest.contracts.serve import router_from_contracts
    from rpctest.contracts.sources import load_sources
    from rpctest.exceptions import ConfigError, RpctestError
    from rpctest.stacks import get_adapter

    logging.basicConfig(level=logging.INFO, format="rpctest serve: %(levelname)s %(message)s", stream=sys.stderr)
    broker = broker_query(args)
    if not args.contracts and broker is None:
        raise _usage("rpctest serve needs consumer contracts: CONTRACT paths, or --broker-provider NAME (with --broker URL)")
    router = router_from_contracts(load_sources(args.contracts, broker=broker), args.stack, states=args.state)
    adapter = get_adapter(args.stack)
    from rpctest.progress import current

    try:
        # serving other machines is what rpctest serve is for: a non-loopback address is allowed, with a warning
        with current().task("serve", f"starting the {args.stack} stub provider" + (f" at {args.address}" if args.address else "")):
            server = adapter.wire.stub_server(router, address=args.address, public=True)
    except RpctestError as exc:
        raise ConfigError(f"{exc} (or serve on a running server you name with --address)") from None
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        services = sorted({f"{s.service}.{s.action}" for s in router.active()})
        print(f"rpctest serve: {args.stack} stub provider at {server.address}", flush=True)
        print(f"rpctest serve: {len(router.active())} recorded interaction(s) for {', '.join(services)}", file=sys.stderr, flush=True)
        done.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


@command
def _register_fuzz(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fuzz",
        help="fuzz a provider's error semantics from its schema (valid, one-defect and unknown-operation requests)",
        description=(
            "Generate valid requests and requests with exactly one defect from each operation's request schema, "
            "send them to the provider, and check: valid input never gets a server error and gets a reply that "
            "matches the response schema; a defect gets the stack's caller error at that field; an unknown "
            "operation gets not-found. Failures are shrunk to a minimal request and written as replay files."
        ),
        epilog=_EPILOG,
    )
    _add_target(parser, what="the provider")
    parser.add_argument("--contract", metavar="FILE", help="the provider contract (default: exported from the provider or its introspection)")
    parser.add_argument("--operation", action="append", metavar="NAME", help="fuzz only this operation (repeatable)")
    parser.add_argument("--mode", choices=("positive", "negative", "all"), default="all", help="which requests to generate (default all)")
    parser.add_argument("--max-examples", type=int, default=100, metavar="N", help="cases per operation (default 100)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed, for a reproducible run")
    parser.add_argument("--replay-dir", default=".rpctest/replays", metavar="DIR", help="where replay files go (default .rpctest/replays)")
    parser.add_argument("--state", action="append", metavar="NAME",
                        help="reset the provider through this provider state's handler before every example (repeatable; with --states)")
    parser.add_argument("--states", action="append", metavar="MODULE", help="import MODULE's @rpctest.provider_state handlers (repeatable)")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="text", help="report format (default text)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here (the summary still goes to stderr)")
    parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument("--json", metavar="FILE", help="also write a JSON report")
    parser.add_argument("--framing", action="store_true", help="also attack the endpoint's framing (malformed frames; ZeroJSON, AsyncAPY)")
    parser.add_argument("--strict", action="store_true", help="with --framing: the stack's own weaknesses (e.g. no reply at all) fail too")
    parser.add_argument("--budget", type=float, default=120.0, metavar="SECONDS",
                        help="with --framing: stop sending cases after this long (default 120; the cases left are listed "
                        "as not sent); a hosted AsyncAPY server is killed then")
    parser.add_argument("--probe", metavar="JSON|FILE",
                        help="with --framing: the request of the liveness check, as JSON or as a consumer contract whose recorded "
                        "request to use; one the endpoint answers (a stub server answers its stubs' requests only)")
    parser.set_defaults(handler=_run_fuzz)


def _run_fuzz(args: argparse.Namespace) -> int:
    from rpctest.fuzz.engine import fuzz
    from rpctest.fuzz.target import open_target

    if not args.provider and not args.address:
        raise _usage("fuzz needs --provider MODULE:OBJECT or --address ADDRESS")
    if args.max_examples < 1:
        raise _usage("--max-examples must be at least 1")
    _check_outputs(args.output, args.junit, args.json)
    from hypothesis import settings

    from rpctest.fuzz.engine import choose_seed

    stack = _stack_for(args)
    service = args.service or _address_service(args.address)
    states = _fuzz_states(args, service)
    credentials = _credentials(args, stack, service)
    # a CLI run leaves no .hypothesis/ behind, and always draws with a seed it prints: Hypothesis' ci
    # profile (loaded under CI=true) derandomizes, which would leave a CI log with no seed to rerun
    hypothesis_settings = settings(settings.default, database=None, derandomize=False)
    seed = choose_seed(hypothesis_settings, args.seed)
    if seed is not None:  # first, so that even a run cut short can be repeated
        print(f"rpctest fuzz: seed: {seed} — rerun with --seed {seed}", file=sys.stderr, flush=True)
    with open_target(stack, provider=args.provider, address=args.address, service=service, contract=args.contract,
                     timeout=args.timeout, credentials=credentials) as target:
        report = fuzz(
            target,
            operations=args.operation,
            mode=args.mode,
            max_examples=args.max_examples,
            replay_dir=args.replay_dir,
            seed=seed,
            settings=hypothesis_settings,
            states=states,
        )
        framing = _framing(stack, args, target.contract) if args.framing else None
    runs = [r.run_report() for r in (report, framing) if r is not None]
    from rpctest.contracts.format import write_text_atomic
    from rpctest.report import render_many

    for fmt, path in (("junit", args.junit), ("json", args.json)):
        if path:
            write_text_atomic(path, _redact(render_many(runs, fmt)))
    return _emit(runs, args.format, args.output)


def _fuzz_states(args: argparse.Namespace, service: str | None) -> list[Any]:
    """The states ``--state`` names, their handlers imported (``--states``, the service's states)."""
    if not args.state:
        if args.states:
            raise _usage("--states imports state handlers for --state NAME; name the state to reset through")
        return []
    from rpctest.stubs.states import make_state

    _state_handlers(args.states, service)
    return [make_state(name, where="--state") for name in args.state]


def _framing(stack: str, args: argparse.Namespace, contract: Any) -> Any:
    """The framing fuzz of the same endpoint: the running one, or the provider hosted on a socket."""
    import contextlib
    import json

    from hypothesis import find, settings

    from rpctest.stacks import get_adapter
    from rpctest.strategies import from_schema

    adapter = get_adapter(stack)
    names = [n for n in (args.operation or sorted(contract.operations)) if n in contract.operations]
    probes = [n for n in names if n != "introspect"] or names
    if not probes:
        raise _usage("--framing needs an operation of the contract to probe the endpoint's liveness with")
    if args.probe:
        name, valid = _probe_request(args.probe, probes)
        operation = contract.operations[name]
    else:  # the simplest valid request: a stub server that answers only its stubs' requests may not answer it
        operation = contract.operations[probes[0]]
        valid = find(from_schema(operation.request), lambda _: True, settings=settings(database=None))
    with contextlib.ExitStack() as stack_:
        address = args.address
        hosted = None
        if address is None:
            from rpctest.progress import current

            with current().task("fuzz --framing", f"starting {args.provider} for the framing cases"):
                hosted = stack_.enter_context(adapter.framing_host(args.provider))
            address = hosted.address
        report = adapter.framing_fuzz(address.split("#", 1)[0], service=contract.service, operation=operation,
                                      args=valid, timeout=min(args.timeout, 1.0), strict=args.strict, hosted=hosted,
                                      budget=args.budget)
    if report.aborted and not report.results and not args.probe:
        report.aborted += (
            f"; the liveness request was {operation.name} {json.dumps(valid)[:200]}, made up from the schema: give one the "
            "endpoint answers with --probe JSON, or --probe CONSUMER_CONTRACT for a recorded one (what rpctest serve answers)"
        )
    return report


def _probe_request(probe: str, operations: list[str]) -> tuple[str, Any]:
    """(operation, request) of --probe: JSON for the first of ``operations``, or the first recorded
    request of one of them in a consumer contract file."""
    import json
    import os

    from rpctest.contracts import format as fmt

    if not os.path.isfile(probe):
        try:
            return operations[0], json.loads(probe)
        except ValueError as exc:
            raise _usage(f"--probe takes a JSON request or a consumer contract file; {probe[:80]!r} is neither ({exc})") from None
    consumer = fmt.load(probe)
    recorded = [item for item in getattr(consumer, "interactions", []) if item.operation in operations]
    if not recorded:
        raise _usage(f"--probe {probe}: no recorded request of {', '.join(operations)} in it (a consumer contract of this service?)")
    first = min(recorded, key=lambda item: operations.index(item.operation))
    return first.operation, first.request


@command
def _register_replay(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="re-send a fuzz failure's minimal request and say FIXED or STILL FAILING",
        description="Re-send the request of a replay file written by rpctest fuzz and run the check that failed.",
        epilog="exit status: 0 fixed, 1 still failing, 2 usage error (a bad replay file, an unreachable provider), 3 internal error",
    )
    parser.add_argument("file", metavar="FILE", help="a replay file (.rpctest/replays/*.json)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--provider", metavar="MODULE:OBJECT", help="replay against this provider instead of the file's")
    target.add_argument("--address", metavar="ADDRESS", help="replay against this running endpoint instead of the file's")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the reply (default 5)")
    _add_credentials(parser)
    parser.set_defaults(handler=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    from rpctest.fuzz.replay import load_replay, replay

    data = load_replay(args.file)
    _quiet_stack_logs(data["stack"])  # the verdict is the output, not the stack's logs
    address = None if args.provider else args.address or data.get("target", {}).get("address")
    credentials = _credentials(args, data["stack"], data.get("service"), address)
    still_failing, detail = replay(args.file, provider=args.provider, address=args.address, timeout=args.timeout, credentials=credentials)
    print(_redact(("STILL FAILING: " if still_failing else "FIXED: ") + detail))
    return EXIT_FINDINGS if still_failing else EXIT_OK


from rpctest import report_cli as _report_cli  # noqa: E402,F401 - registers ``rpctest report``
from rpctest import cli_pact_relay  # noqa: E402,F401  (registers rpctest pact-relay)


# --------------------------------------------------------------------------------------------------
# the entry point


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="rpctest",
        description="Testing and contract verification for RPC services.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rpctest {__version__}")
    _add_output_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _COMMANDS:
        register(subparsers)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code argparse asked for (--help, --version, usage errors)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code == EXIT_USAGE:
            _hint_output_options(sys.argv[1:] if argv is None else list(argv))
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or EXIT_OK
        print(exc.code, file=sys.stderr)
        return EXIT_USAGE


def _hint_output_options(argv: list[str]) -> None:
    """After argparse refused ``-q``/``-v`` given after the command, say where they go (they are
    options of ``rpctest`` itself, applying to every command alike)."""
    options = ("-q", "--quiet", "-v", "--verbose")
    ends = argv.index("--") if "--" in argv else len(argv)
    late = [i for i, arg in enumerate(argv[:ends]) if arg in options and any(not a.startswith("-") for a in argv[:i])]
    if late:
        flag = argv[late[0]]
        rest = " ".join(arg for i, arg in enumerate(argv) if i not in late)
        print(f"rpctest: {flag} goes before the command: rpctest {flag} {rest}", file=sys.stderr)


def _silence_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _quiet_stack_logs(stack: Any) -> None:
    """A command's output is rpctest's report: what the stack's library logs goes to the run's log
    file (:mod:`rpctest.stacklogs`), shown live only with ``-v``."""
    if isinstance(stack, str):
        from rpctest import stacklogs

        stacklogs.current().take(stack)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """``-q``/``-v`` before the command (``rpctest -q fuzz ...``): they apply to every command alike."""
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines: the report, the seed and errors only")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the stack libraries' logs and in-process servers' tracebacks live on stderr "
                        "(else they go to a log file under .rpctest/logs/)")


def _run_handler(parsed: argparse.Namespace) -> int:
    """The handler, with the run's progress line and the capture of the stack libraries' logs."""
    from rpctest import progress, stacklogs

    quiet, verbose = bool(getattr(parsed, "quiet", False)), bool(getattr(parsed, "verbose", False))
    command = "-".join(str(part) for part in (parsed.command, getattr(parsed, "contracts_command", None)) if part)
    stack = getattr(parsed, "stack", None)
    # rpctest serve's own diagnostics on rpctest.serve are its output; elsewhere they are a server's logs
    with progress.activated(progress.Progress(sys.stderr, mode="off" if quiet else "auto")), \
            stacklogs.captured([stack] if isinstance(stack, str) else [], command, verbose=verbose,
                               servers=parsed.command != "serve") as logs:
        try:
            return int(parsed.handler(parsed))
        finally:
            where = logs.summary()
            if where and not quiet and not verbose:
                print(where, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    from rpctest.exceptions import RpctestError

    try:
        code: int = _run_handler(parsed)
        return code
    except RpctestError as exc:
        print(_redact(f"rpctest: error: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rpctest: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``rpctest doctor | head``): not rpctest's failure, and Python
        # would otherwise complain again when it flushes stdout at exit
        _silence_stdout()
        return EXIT_FINDINGS
    except Exception as exc:  # the last line of defence: always exit 3, never a bare traceback
        import traceback

        traceback.print_exc()
        print(_redact(f"rpctest: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        print(
            "rpctest: this is a bug in rpctest; please report it with the traceback above "
            "and the output of `rpctest doctor`",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
