"""Issue 15 on PySOA: 200 seeded garbage request-list elements to rpctest's stub server, on an
in-memory fakeredis and on a real redis-server."""

from __future__ import annotations

import pytest
from garbage_helpers import assert_stub_server_survives

from rpctest import redis_backend
from rpctest.model import Call
from rpctest.stacks.pysoa.redis_stub import serve_stubs


@pytest.fixture(params=["fake", "real"])
def target(request: pytest.FixtureRequest) -> redis_backend.RedisTarget:
    if request.param == "fake":
        return redis_backend.fake()
    return request.getfixturevalue("rpctest_redis")


def test_the_stub_server_keeps_answering_after_200_garbage_elements(target: redis_backend.RedisTarget) -> None:
    assert_stub_server_survives(serve_stubs, Call("pysoa", "garbage", "add", {"a": 1, "b": 2}), target_address=target, redis=target,
                                services=["garbage"])
    with target.connect() as redis_client:  # answered after every element before it: each was taken
        assert redis_client.llen("pysoa:service.garbage") == 0
