"""Shared by each stack's matcher tests (issue 18, item 2): record a consumer's stubs that use
matchers, then hold a real provider to the recorded rules with live verification."""

from __future__ import annotations

import json
from typing import Any, Callable

from rpctest import stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import verify_live
from rpctest.contracts.recorder import Recorder
from rpctest.contracts.verify import verify
from rpctest.stubs.router import StubRouter

__all__ = ["record", "live_findings", "schema_findings"]


def record(*stubs: stub_action, run: Callable[[], Any], router: StubRouter | None = None) -> fmt.ConsumerContract:
    """What ``pytest --rpctest-record`` writes while ``run`` (the consumer's code) calls the stubbed
    service, read back from the file text; ``run``'s result is checked by the caller."""
    recorder = Recorder("web", router=router).start()
    try:
        for stub in stubs:
            if router is not None:
                stub.router = router
            stub.start()
        try:
            run()
        finally:
            for stub in stubs:
                stub.stop()
    finally:
        recorder.stop()
    [contract] = recorder.contracts()
    return fmt.parse(json.loads(fmt.dump(contract)))


def live_findings(contract: fmt.ConsumerContract, send: Callable[..., Any], **options: Any) -> list[tuple[str, str, str, str]]:
    """(check, pointer, expected, actual) of each finding of live verification through ``send``."""
    report = verify_live([contract], send, **options)
    assert report.interactions == len(contract.interactions)
    return [(f.check, f.pointer, f.expected, f.actual) for f in report.findings]


def schema_findings(contract: fmt.ConsumerContract, provider: fmt.ProviderContract) -> list[tuple[str, str, str]]:
    """(check, pointer, actual) of each finding of ``verify`` against the provider's schema."""
    return [(f.check, f.pointer, f.actual) for f in verify([contract, provider]).findings]
