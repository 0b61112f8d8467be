"""Where rpctest's servers may listen: loopback only, unless a user serves other machines on purpose.

A stub server or an in-process host is a test double or a service under test with test data: bound to
``0.0.0.0`` it answers anyone on the network, silently. So every server rpctest starts refuses a
host that is not loopback, and only ``rpctest serve --address`` (serving a contract to other
machines is its job) may bind one, with a warning that names the address.
"""

from __future__ import annotations

import ipaddress
import logging

from rpctest.exceptions import ConfigError

__all__ = ["is_loopback", "check_bind_host"]

_logger = logging.getLogger("rpctest.serve")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP address or ``localhost``) can only be reached from this machine."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # "*", "", a hostname: it may resolve to a public interface


def check_bind_host(host: str, *, server: str, public: bool = False) -> None:
    """Refuse to bind ``host`` unless it is loopback; with ``public`` (``rpctest serve``), allow it
    with a warning on the ``rpctest.serve`` logger instead."""
    if is_loopback(host):
        return
    if not public:
        raise ConfigError(
            f"the {server} binds loopback addresses only (127.0.0.1, ::1, localhost), not {host!r}: on another "
            f"interface it would answer anyone on the network. To serve a contract to other machines on "
            f"purpose, use rpctest serve --address, which allows it with a warning"
        )
    _logger.warning("serving on %s, which is not loopback: other machines can reach this server", host)
