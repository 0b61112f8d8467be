"""The small garbage-frames run each stack's tests make against its stub server (issue 15).

Imported as ``garbage_helpers`` (``tests/`` is on the pythonpath). ``benchmarks/garbage_frames.py``
is the big run; this one sends 200 seeded frames, checks every 50 and at the end that the probe is
still answered, and that the stub server handled every frame with its codec (no internal error).
"""

from __future__ import annotations

import random
from typing import Any

from collections.abc import Callable

from rpctest.fuzz.garbage import GarbageReport, run_against, unit_bytes
from rpctest.model import Call
from rpctest.stacks import get_adapter
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter

SEED = 15
COUNT = 200


def echo(body: Any) -> Any:
    """The probe's stub: the body back, so that what the decoder let through goes through the encoder too."""
    return {"echo": body}


def assert_survives(stack: str, server: Any, probe: Call, *, address: Any = None, **options: Any) -> GarbageReport:
    """200 garbage frames to ``server`` (at ``address``, default its own); the server still answers and
    reported no internal error."""
    report = run_against(
        stack, server.address if address is None else address, probe, timeout=5.0, seed=SEED, count=COUNT,
        check_every=50, wait=0.01, server_alive=lambda: server.alive, **options,
    )
    assert report.ok and report.sent == COUNT and report.checks == 5, report.summary() + "\n" + "\n".join(report.findings)
    assert "error" not in report.answers, report.findings
    internal = [text for text in server.diagnostics if "internal error" in text]
    assert not internal, internal[:3]
    return report


def assert_breakages_build_units(stack: str, address: Any, probe: Call, **options: Any) -> None:
    """Every framing breakage of the stack builds a unit, differently for different seeds."""
    target = get_adapter(stack).garbage_target(address, probe, timeout=5.0, **options)
    try:
        shape = target.shape
        assert shape.stack == stack and shape.breakages
        for breakage in shape.breakages:
            units = {unit_bytes(breakage(random.Random(seed), shape)) for seed in range(30)}
            assert units and unit_bytes(shape.valid) not in units, breakage.__name__
            assert len(units) > 1, f"{breakage.__name__} builds one unit whatever the seed"
    finally:
        target.close()


def assert_stub_server_survives(
    serve: Callable[..., Any], probe: Call, *, match: Any = None, target_address: Any = None, **serve_options: Any
) -> GarbageReport:
    """A stub server started with ``serve(router, **serve_options)``, one stub echoing ``probe``
    (``match=`` its pattern), its stack's breakages built, then :func:`assert_survives` (against
    ``target_address``, by default the server's own address)."""
    router = StubRouter(intercept=False)
    stub_action(probe.service, probe.operation, stack=probe.stack, router=router, side_effect=echo, match=match).start()
    with serve(router, **serve_options) as server:
        assert_breakages_build_units(probe.stack, server.address if target_address is None else target_address, probe)
        return assert_survives(probe.stack, server, probe, address=target_address)
