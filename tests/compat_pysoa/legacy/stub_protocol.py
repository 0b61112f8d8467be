import random

from parameterized import parameterized

from pysoa.client.client import Client
from pysoa.test.compatibility import mock
from pysoa.test.stub_service import stub_action

ANN = {"user": {"id": 1, "username": "Ann"}}


class TestParameterized:
    @parameterized.expand([(1,), (2,)])
    @stub_action("user", "get_user", body=ANN)
    def test_expand(self, user_id, stub_get_user):
        Client({}).call_action("user", "get_user", {"id": user_id})
        assert stub_get_user.call_bodies == ({"id": user_id},)


@stub_action("user", "get_user", body=ANN)
@mock.patch("random.randint", return_value=4)
def test_backport_or_stdlib_patch_below_stub(mock_randint, stub_get_user):
    assert random.randint(1, 6) == 4
    Client({}).call_action("user", "get_user", {"id": 1})
    assert stub_get_user.call_bodies == ({"id": 1},)


def test_reentering_a_stub():
    stub = stub_action("user", "get_user", body=ANN)
    with stub as first:
        with stub as second:
            Client({}).call_action("user", "get_user", {"id": 1})
        assert first is second
        assert first.call_count == 1
