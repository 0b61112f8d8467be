"""rpctest.binding: servers listen on loopback only, unless rpctest serve is asked to serve others."""

from __future__ import annotations

import logging

import pytest

from rpctest.binding import check_bind_host, is_loopback
from rpctest.exceptions import ConfigError


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost", "LocalHost", "api.localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    check_bind_host(host, server="test server")  # no error


@pytest.mark.parametrize("host", ["0.0.0.0", "*", "", "::", "192.168.1.10", "example.com"])
def test_other_hosts_are_refused_with_the_way_out(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError) as caught:
        check_bind_host(host, server="test server")
    message = str(caught.value)
    assert f"the test server binds loopback addresses only (127.0.0.1, ::1, localhost), not {host!r}" in message
    assert "rpctest serve --address" in message


def test_rpctest_serve_may_bind_them_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rpctest.serve"):
        check_bind_host("0.0.0.0", server="test server", public=True)
    assert "serving on 0.0.0.0, which is not loopback: other machines can reach this server" in caplog.text
