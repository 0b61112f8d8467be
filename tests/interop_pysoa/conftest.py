"""Fixtures of the differential suite against the real PySOA: its servers on a real redis-server
(``rpctest_redis``: skipped without one, a failure under RPCTEST_REQUIRE_REDIS=1, as in CI)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest


@pytest.fixture(scope="module")
def ledger_address(rpctest_redis: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from interop_pysoa.pysoa_peer import pysoa_server

    with pysoa_server(rpctest_redis, "LedgerServer", "ledger", tmp_path_factory.mktemp("ledger") / "server.log", probe="ping") as address:
        yield address


@pytest.fixture(scope="module")
def flawed_address(rpctest_redis: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from interop_pysoa.pysoa_peer import pysoa_server

    with pysoa_server(rpctest_redis, "FlawedServer", "flawed", tmp_path_factory.mktemp("flawed") / "server.log", probe="ratio") as address:
        yield address
