"""Event loops rpctest runs on threads of its own (hosted servers, blocking clients): closing them fully.

A hosted service that outlives one test's loop runs on a background thread's loop; when it stops,
that loop must leave nothing behind for the user's ResourceWarning-strict test run: no pending task,
no async generator, and no thread in the loop's default executor (tornado resolves host names there).
"""

from __future__ import annotations

import asyncio

__all__ = ["close_loop"]


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending on ``loop`` (not running), finish generators and executor, close it."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
