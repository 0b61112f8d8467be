"""The golden vectors of Kyoukai 2.2.1.post1, reproduced against the real app served by rpctest.

Each ``published-2.2.1.post1`` exchange is replayed byte for byte (a) over a real socket to the app
served by :func:`rpctest.stacks.kyoukai.serve` and (b) over rpctest's memory connection to the same
app's real HTTP backend (the local transport). Received bytes must equal the recorded ones outside
the ``varies`` ranges (the Allow header's order, compared as a set), and the connection must end as
recorded (server close, or still open after the recorded wait). The ``pypi-2.2.1`` vectors record a
different wheel: they are checked to be *not* what the installed 2.2.1.post1 answers, which is the
error-handler regression rpctest must report.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rpctest.stacks.kyoukai import serve
from rpctest.stacks.kyoukai.host import PUBLISHED_VERSION
from rpctest.stacks.kyoukai.transport import Endpoint
from stack_kyoukai.kyk_apps import make_vec_app, route_table
from stack_kyoukai.kyk_wire import Result, memory_exchange, socket_exchange
from vectors import blob_bytes, load, mask

pytestmark = pytest.mark.filterwarnings("ignore:Explicitly passing the parent context:DeprecationWarning")

FAMILIES = ("calls", "errors", "framing")
ALL = [vector for family in FAMILIES for vector in load("kyoukai", family)["vectors"]]
PUBLISHED = [v for v in ALL if v["variant"] == "published-2.2.1.post1"]
PYPI_221 = [v for v in ALL if v["variant"] == "pypi-2.2.1"]


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in vectors]


def test_the_vector_set_is_the_one_these_tests_were_written_for() -> None:
    assert (len(PUBLISHED), len(PYPI_221)) == (21, 9)
    assert all(v["transport"]["kind"] == "tcp" for v in PUBLISHED)
    assert {e["op"] for v in PUBLISHED for e in v["exchange"]} == {"connect", "send", "pause", "recv", "client_timeout", "server_close"}


@pytest.fixture(scope="module")
def vec_server() -> Any:
    service = serve(make_vec_app, timeout=5.0)
    yield service
    service.stop()


def _events(vector: dict[str, Any]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    for event in vector["exchange"]:
        if event["op"] == "send":
            events.append(("send", blob_bytes(event["data"])))
        elif event["op"] == "pause":
            events.append(("pause", event["seconds"]))
    return events


def _expected(vector: dict[str, Any]) -> tuple[bytes, dict[str, Any] | None, str]:
    recvs = [e["data"] for e in vector["exchange"] if e["op"] == "recv"]
    assert len(recvs) <= 1
    end = vector["exchange"][-1]
    assert end["op"] in ("server_close", "client_timeout")
    blob = recvs[0] if recvs else None
    return (blob_bytes(blob) if blob else b""), blob, end["op"]


def _allow_sets(data: bytes) -> list[set[str]]:
    return [
        {m.strip() for m in line.split(b":", 1)[1].decode().split(",")}
        for line in data.split(b"\r\n")
        if line.lower().startswith(b"allow:")
    ]


def _check(vector: dict[str, Any], got: Result) -> None:
    expected, blob, end = _expected(vector)
    if blob is not None and blob.get("varies"):
        assert len(got.received) == len(expected), got.received
        assert mask(got.received, blob) == mask(expected, blob), got.received
        assert _allow_sets(got.received) == _allow_sets(expected)
    else:
        assert got.received == expected
    assert got.closed is (end == "server_close"), f"connection {'closed' if got.closed else 'open'}, vector says {end}"


def _wait(vector: dict[str, Any]) -> float:
    end = vector["exchange"][-1]
    return end.get("waited_s", 0.6) if end["op"] == "client_timeout" else 2.0


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", PUBLISHED, ids=_ids(PUBLISHED))
async def test_published_vector_over_a_socket(vector: dict[str, Any], vec_server: Any) -> None:
    got = await socket_exchange(vec_server.port, _events(vector), quiet=_wait(vector))
    _check(vector, got)


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", PUBLISHED, ids=_ids(PUBLISHED))
async def test_published_vector_over_the_local_transport(vector: dict[str, Any]) -> None:
    endpoint = Endpoint(make_vec_app(loop=asyncio.get_running_loop()))
    got = await memory_exchange(endpoint, _events(vector))
    _check(vector, got)


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", PYPI_221, ids=_ids(PYPI_221))
async def test_the_earlier_221_answers_are_not_what_the_published_wheel_gives(vector: dict[str, Any]) -> None:
    """Every 2.2.1 vector has a post1 twin; the installed wheel answers as the twin, not as 2.2.1."""
    twin = next(v for v in PUBLISHED if v["scenario"] == vector["scenario"])
    endpoint = Endpoint(make_vec_app(loop=asyncio.get_running_loop()))
    got = await memory_exchange(endpoint, _events(vector))
    assert _events(vector) == _events(twin)
    _check(twin, got)
    assert got.received != _expected(vector)[0]


def test_the_route_table_vector() -> None:
    from vectors import load as load_file

    (vector,) = [v for v in load_file("kyoukai", "routes")["vectors"] if v["variant"] == "published-2.2.1.post1"]
    loop = asyncio.new_event_loop()
    try:
        app = make_vec_app(loop=loop)
    finally:
        loop.close()
    table = route_table(app)
    assert table["kyoukai_version"] == PUBLISHED_VERSION
    assert table == vector["route_table"]
    assert len(table["rules"]) == vector["outcome"]["rules"]
