"""PyCOM's nameserver (``org.pycom.nameserver``) as a hostable service.

Host a :class:`NameServer` in a :class:`~rpctest.stacks.zerojson.server.ZeroJSONServer` to give
code under test a nameserver to register with and locate through; a server that hosts one also
finds ``org.pycom.authenticator`` through it. The methods and their answers are PyCOM's:

* ``stat()`` -> ``{}`` (a ping);
* ``register(address, interfaces, service)`` -> ``{}``: types checked (str, list of str, str: 4);
  re-registering a name from the same address renews it and replaces its interfaces, from another
  address is 5 ``Service X already registered on a different address``; a registration expires
  after ``service_timeout`` (PyCOM: 60 s) unless renewed;
* ``locate(interface, service=None)`` -> ``{address, service, interfaces}`` of a provider chosen at
  random (PyCOM's load balancing); none is 3 ``Interface not found: X``;
* ``list_services(interface=None, service=None)`` -> a list of ``{service, address, interfaces}``;
  the filters are regular expressions applied with ``re.match``; an invalid one is 4.

Differences, on purpose: the registry belongs to the instance, not to the class (PyCOM shares it
process-wide), so tests do not leak registrations into each other; ``list_services`` is sorted by
service name (PyCOM iterates a set); a failed ``locate`` leaves nothing behind. The wording of the
invalid-regex message is rpctest's (the vectors do not record PyCOM's).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from rpctest.stacks.zerojson.errors import AccessDenied, BadRequest, ServiceNotFound
from rpctest.stacks.zerojson.service import (
    Request,
    Service,
    check_argument,
    interface,
    method,
)

__all__ = ["NS_INTERFACE", "NS_SERVICE_TIMEOUT", "NameServer"]

#: the nameserver's interface name (PyCOM's ``NS_INTERFACE``)
NS_INTERFACE = "org.pycom.nameserver"
#: how long a registration lives without renewal (PyCOM's ``NS_SERVICE_TIMEOUT``, 60000 ms), seconds
NS_SERVICE_TIMEOUT = 60.0


def _all_strings(value: list[Any]) -> bool:
    return all(isinstance(item, str) for item in value)


@interface(NS_INTERFACE, authentication="never")
class NameServer(Service):
    """PyCOM nameserver: service registration and lookup."""

    def __init__(
        self,
        *,
        service_timeout: float = NS_SERVICE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        choose: Callable[[list[Any]], Any] = random.choice,
    ) -> None:
        self.service_timeout = service_timeout
        self._clock = clock
        self._choose = choose
        self._lock = threading.Lock()
        # service name -> (address, interfaces, registered at)
        self._services: dict[str, tuple[str, list[str], float]] = {}

    # -- Python side -----------------------------------------------------------------------------------

    def add(self, service: str, address: str, interfaces: list[str]) -> None:
        """Register (or renew) ``service`` at ``address`` as ``register`` does (AccessDenied on conflict)."""
        with self._lock:
            self._expire()
            known = self._services.get(service)
            if known is not None and known[0] != address:
                raise AccessDenied(f"Service {service} already registered on a different address")
            self._services[service] = (address, list(interfaces), self._clock())

    def find(self, interface: str, service: str | None = None) -> dict[str, Any] | None:
        """``locate``'s answer, or None when nothing provides ``interface``."""
        with self._lock:
            self._expire()
            candidates = [
                {"address": address, "service": name, "interfaces": list(interfaces)}
                for name, (address, interfaces, _) in sorted(self._services.items())
                if interface in interfaces and (service is None or name == service)
            ]
        return self._choose(candidates) if candidates else None

    def services(self) -> list[dict[str, Any]]:
        """Every live registration, as ``list_services`` lists them."""
        with self._lock:
            self._expire()
            return [
                {"service": name, "address": address, "interfaces": list(interfaces)}
                for name, (address, interfaces, _) in sorted(self._services.items())
            ]

    def _expire(self) -> None:
        now = self._clock()
        for name in [n for n, (_, _, at) in self._services.items() if now - at > self.service_timeout]:
            del self._services[name]

    # -- remote methods --------------------------------------------------------------------------------

    @method
    def stat(self, request: Request) -> dict[str, Any]:
        """Ping the nameserver."""
        return {}

    @check_argument("address", str)
    @check_argument("interfaces", list, validator=_all_strings)
    @check_argument("service", str)
    @method
    def register(self, request: Request, address: str, interfaces: list[str], service: str) -> dict[str, Any]:
        """Register or renew a service providing interfaces at an address."""
        self.add(service, address, interfaces)
        return {}

    @method
    def locate(self, request: Request, interface: str, service: str | None = None) -> dict[str, Any]:
        """Find a provider of an interface (chosen at random among several)."""
        found = self.find(interface, service)
        if found is None:
            raise ServiceNotFound(f"Interface not found: {interface}")
        return found

    @method
    def list_services(self, request: Request, interface: str | None = None, service: str | None = None) -> list[Any]:
        """List registered services, filtered by regular expressions on interface and service names."""
        interface_re, service_re = _pattern("interface", interface), _pattern("service", service)
        return [
            entry
            for entry in self.services()
            if (service_re is None or service_re.match(entry["service"]))
            and (interface_re is None or any(interface_re.match(name) for name in entry["interfaces"]))
        ]


def _pattern(name: str, value: Any) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Argument '{name}' must be a regular expression string, got {type(value)}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise BadRequest(f"Invalid regular expression for '{name}': {exc}") from exc
