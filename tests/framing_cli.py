"""``rpctest fuzz --framing`` against the stub server ``rpctest serve`` starts (issue 15), shared by the
ZeroJSON and AsyncAPY tests. Imported as ``framing_cli`` (``tests/`` is on the pythonpath)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rpctest.cli import main
from rpctest.contracts import format as contract_format
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks import get_adapter

ROOT = Path(__file__).resolve().parents[1]


def framing_against_serve(stack: str, consumer: str, provider: str, tmp_path: Path, *options: str) -> tuple[int, dict[str, Any]]:
    """(exit status, the framing report as JSON) of ``rpctest fuzz --framing`` against the stub server
    that ``rpctest serve --stack STACK CONSUMER`` runs (the same router, the same server)."""
    router = router_from_contracts(contract_format.load_many([str(ROOT / consumer)]), stack)
    server = get_adapter(stack).wire.stub_server(router)
    report = tmp_path / "report.json"
    try:
        code = main(["fuzz", "--stack", stack, "--address", server.address, "--contract", str(ROOT / provider), "--framing",
                     "--max-examples", "2", "--replay-dir", str(tmp_path / "replays"), "--json", str(report), *options])
    finally:
        server.stop()
    reports = json.loads(report.read_text())
    return code, next(r for r in reports if "aborted" in r)  # the framing report (the fuzz report has no 'aborted')
