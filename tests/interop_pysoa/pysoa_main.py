"""Run a PySOA server of ``pysoa_services`` with PySOA's own ``Server.run()`` loop, on a real Redis:
``python pysoa_main.py SERVER_CLASS REDIS_HOST REDIS_PORT REDIS_DB`` (what a deployment does, minus
the settings module). Nothing of rpctest is imported here."""

from __future__ import annotations

import sys

from pysoa.server.settings import ServerSettings

import pysoa_services


def main(server_class: str, host: str, port: str, db: str) -> None:
    settings = ServerSettings({
        "transport": {
            "path": "pysoa.common.transport.redis_gateway.server:RedisServerTransport",
            "kwargs": {"backend_type": "redis.standard",
                       "backend_layer_kwargs": {"hosts": [(host, int(port))], "connection_kwargs": {"db": int(db)}}},
        },
    })
    getattr(pysoa_services, server_class)(settings).run()


if __name__ == "__main__":
    main(*sys.argv[1:])
