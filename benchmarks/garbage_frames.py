"""Issue 15: distinct malformed frames to each stack's stub server; does it keep answering?

Run: ``python benchmarks/garbage_frames.py [--stack NAME ...] [--frames 10000] [--seed 15] [--check-every 100]
[--wait 0.01] [--probe-timeout 5] [--max-size BYTES]``.

For each stack (all five by default), a stub server starts as ``rpctest serve`` starts it (its
defaults: AsyncAPY's 60 s connection deadline, a private redis-server for PySOA), with one stub that
echoes a valid call, the probe. :mod:`rpctest.fuzz.garbage` then sends it ``--frames`` distinct
malformed units of its transport, drawn from ``--seed`` (ZeroJSON multipart messages, AsyncAPY
length-prefixed connections, pykern WebSocket messages, Kyoukai HTTP requests, PySOA Redis list
elements). Every ``--check-every`` frames and at the end the probe must be answered within
``--probe-timeout``: a **crash** is a server gone (its thread ended, or it stopped listening), a
**hang** a server there that did not answer in time. Every send and every wait is bounded.

The stacks' stub servers need different libraries whose pins conflict (``docs/architecture.md``,
Environments), so a stack this interpreter cannot serve runs in its nox session's interpreter
(``.nox/<stack>/bin/python``, made by ``python3 scripts/test.py -s <stack>``), this same script with
``--json``; a stack with neither is reported as not run, and why.

Prints one line per stack: frames sent, crashes, hangs, liveness checks and wall time, then any
finding (which frames came before a failed check, how to send them again), and the stub server's own
diagnostics that were internal errors (each a frame handled by the guard rather than by the codec).
Exit status 1 when any crash, hang or internal error was seen, 2 when a stack could not be run.
Nothing asserts a time; the goal is 0 crashes and 0 hangs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STACKS = ("zerojson", "asyncapy", "pykern", "kyoukai", "pysoa")
#: what each stack's stub server needs beside rpctest's own dependencies
NEEDS = {"zerojson": ("zmq",), "asyncapy": (), "pykern": ("tornado",), "kyoukai": ("h11", "httpx"), "pysoa": ("redis",)}


def _probe(stack: str) -> tuple[Any, dict[str, Any]]:
    """The valid call the stub answers (an echo of its body) and the stub's options."""
    from rpctest.model import Call

    echo = {"side_effect": lambda body: {"echo": body}}
    if stack == "asyncapy":  # routed by its packet, as AsyncAPY's Fields route
        return Call(stack, "calc", "add", {"action": "add", "a": 1, "b": 2}), {**echo, "match": {"action": "add$", "a": r"-?\d+$", "b": r"-?\d+$"}}
    if stack == "kyoukai":  # an HTTP route with a JSON body
        return Call(stack, "shop", "POST /orders", {"body": {"sku": "apple", "n": 2}}), echo
    return Call(stack, "calc", "add", {"a": 1, "b": 2}), echo


def run_stack(stack: str, args: argparse.Namespace) -> dict[str, Any]:
    """One stack's run in this process: figures, findings and the stub server's internal errors."""
    from rpctest.fuzz.garbage import run_against
    from rpctest.stacks import get_adapter
    from rpctest.stubs.api import stub_action
    from rpctest.stubs.router import StubRouter

    probe, stub_options = _probe(stack)
    router = StubRouter(intercept=False)
    stub_action(probe.service, probe.operation, stack=stack, router=router, **stub_options).start()
    server = get_adapter(stack).wire.stub_server(router)
    try:
        address = server.redis if stack == "pysoa" else server.address
        report = run_against(
            stack, address, probe, timeout=args.probe_timeout, seed=args.seed, count=args.frames, check_every=args.check_every,
            wait=args.wait, max_size=args.max_size, server_alive=lambda: server.alive,
        )
    finally:
        server.stop()
    internal = [text for text in server.diagnostics if "internal error" in text]
    return {
        "stack": stack, "sent": report.sent, "crashes": report.crashes, "hangs": report.hangs, "checks": report.checks,
        "seconds": round(report.seconds, 1), "answers": dict(report.answers), "findings": report.findings,
        "internal_errors": internal[:20], "internal_error_count": len(internal), "python": sys.executable,
    }


def _missing(stack: str) -> list[str]:
    missing = []
    for module in NEEDS[stack]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def _in_session(stack: str, args: argparse.Namespace) -> dict[str, Any]:
    """The stack's run in its nox session's interpreter (this script with --json)."""
    python = ROOT / ".nox" / stack / "bin" / "python"
    if not python.exists():
        return {"stack": stack, "not_run": f"this interpreter lacks {', '.join(_missing(stack))} and there is no {python.relative_to(ROOT)} "
                f"(make it with: python3 scripts/test.py -s {stack})"}
    command = [str(python), __file__, "--json", "--stack", stack, "--frames", str(args.frames), "--seed", str(args.seed),
               "--check-every", str(args.check_every), "--wait", str(args.wait), "--probe-timeout", str(args.probe_timeout),
               "--max-size", str(args.max_size)]
    # bounded: every frame's wait, every check's probe, and room for the slowest sends
    limit = 120 + args.frames * (args.wait + 0.1) + (args.frames // args.check_every + 2) * args.probe_timeout
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"stack": stack, "not_run": f"the run in {python.relative_to(ROOT)} did not end within {limit:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode not in (0, 1) or not lines:
        return {"stack": stack, "not_run": f"{python.relative_to(ROOT)} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}"}
    return json.loads(lines[-1])


def _line(result: dict[str, Any]) -> str:
    if "not_run" in result:
        return f"{result['stack']:<9} NOT RUN: {result['not_run']}"
    return (f"{result['stack']:<9} {result['sent']:>6} frames sent  {result['crashes']} crash(es)  {result['hangs']} hang(s)  "
            f"{result['checks']:>4} liveness checks  {result['seconds']:>7.1f} s wall  internal errors: {result['internal_error_count']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", action="append", choices=STACKS, help="a stack to run (repeatable; default all five)")
    parser.add_argument("--frames", type=int, default=10_000, help="malformed frames per stack (default 10000)")
    parser.add_argument("--seed", type=int, default=15, help="the generator's seed (default 15)")
    parser.add_argument("--check-every", type=int, default=100, help="frames between liveness checks (default 100)")
    parser.add_argument("--wait", type=float, default=0.01, help="seconds to wait for whatever a frame gets back (default 0.01)")
    parser.add_argument("--probe-timeout", type=float, default=5.0, help="seconds the probe may take (default 5)")
    parser.add_argument("--max-size", type=int, default=1 << 20, help="the largest frame, about (default 1 MiB)")
    parser.add_argument("--json", action="store_true", help="one JSON line per stack, run in this interpreter only")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.check_every < 1 or args.wait <= 0 or args.probe_timeout <= 0:
        parser.error("--frames and --check-every are at least 1; --wait and --probe-timeout are positive")
    logging.basicConfig(level=logging.CRITICAL)  # each stub server logs every bad frame; the figures are the output
    results = []
    for stack in args.stack or STACKS:
        if args.json or not _missing(stack):
            started = time.perf_counter()
            try:
                result = run_stack(stack, args)
            except Exception as exc:  # noqa: BLE001 - a stack that cannot start here is reported, not a traceback
                result = {"stack": stack, "not_run": f"{type(exc).__name__}: {exc} (after {time.perf_counter() - started:.1f} s)"}
        else:
            result = _in_session(stack, args)
        results.append(result)
        print(json.dumps(result) if args.json else _line(result), flush=True)
    if not args.json:
        print(f"\nseed {args.seed}, {args.frames} frames per stack, a liveness check every {args.check_every}, probe timeout {args.probe_timeout:g} s")
        for result in results:
            for finding in result.get("findings", []):
                print(f"  {result['stack']}: {finding}")
            for text in result.get("internal_errors", []):
                print(f"  {result['stack']} internal error: {text[:300]}")
            if "python" in result and result["python"] != sys.executable:
                print(f"  {result['stack']} ran in {result['python']}")
    if any("not_run" in r for r in results):
        return 2
    return 1 if any(r["crashes"] or r["hangs"] or r["internal_error_count"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
