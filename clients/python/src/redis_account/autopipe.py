"""Automatic pipelining: commands that concurrent tasks send in the same event-loop turn leave
together, as one redis-py pipeline (no MULTI) on one connection.

Each command stays a separate command: it runs atomically on its own, as when sent alone, and
gets its own reply or error. What changes is the transport: one write and one read loop for a
batch instead of one connection checkout, one ``send`` and one wake-up per command, which is
where a busy ``redis.asyncio`` process spends its time. A task awaits each reply before it sends
its next command, so one task's commands keep their order. A lone command is sent as it is.

The same technique as ioredis's ``enableAutoPipelining`` and rueidis's auto pipelining.

For a standalone client (``redis.asyncio.Redis``) only. redis-py's cluster pipeline retries a
whole batch when one node fails, sending again the commands that had already succeeded on other
nodes (those with a reply of 0 or null), so a ``RedisCluster`` gets each call sent alone.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Set, Tuple

# Commands per pipeline. Small batches keep several pipelines in flight, so the client parses one
# batch's replies while the server runs the next; one big batch makes them take turns. Measured
# with the original's flows (make bench-flows, 50 tasks): 16 gave 1.3-2x the flows/s of 64 or 256.
MAX_BATCH = 16

_Pending = List[Tuple[Tuple[Any, ...], "asyncio.Future[Any]"]]


class AutoPipeline:
    """Queues ``execute_command`` calls of one client per event loop and sends each loop turn's
    calls together, in pipelines of at most ``max_batch`` commands."""

    def __init__(self, client: Any, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.client = client
        self.max_batch = max_batch
        # Arguments are encoded when queued, as redis-py would when packing them: an argument it
        # cannot send fails its own call here, not every call of the batch.
        self._encode = client.connection_pool.get_encoder().encode
        self._pending: Dict[asyncio.AbstractEventLoop, _Pending] = {}
        self._tasks: Set["asyncio.Task[None]"] = set()

    def execute_command(self, *args: Any) -> "asyncio.Future[Any]":
        # The command name stays as given (redis-py picks reply callbacks by it).
        args = (args[0], *map(self._encode, args[1:]))
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[Any]" = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._flush, loop)
        pending.append((args, fut))
        return fut

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending.pop(loop, [])
        for i in range(0, len(pending), self.max_batch):
            task = loop.create_task(self._send(pending[i:i + self.max_batch]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: _Pending) -> None:
        batch = [(args, fut) for args, fut in batch if not fut.done()]  # callers cancelled meanwhile
        if not batch:
            return
        try:
            if len(batch) == 1:
                replies: List[Any] = [await self.client.execute_command(*batch[0][0])]
            else:
                pipe = self.client.pipeline(transaction=False)
                for args, _ in batch:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as e:  # noqa: BLE001 - every waiting caller gets the failure
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(e)
            return
        except BaseException:  # cancelled (the loop is closing): so are the callers
            for _, fut in batch:
                fut.cancel()
            raise
        for (_, fut), reply in zip(batch, replies):
            if fut.done():
                continue
            if isinstance(reply, Exception):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)
