"""Exactly once under real faults: a resent call (redis-py's retries after a stall or a dropped
connection) applies once and answers the first reply, because the client gives every write a
request id (``IDMP``) once, before its first send. On every server of tests/servers.tsv, with
the automatic pipeline on and off and inside a pipeline; redis-py 5.x has no retries by default,
so there the client is given the retry a 5.x application configures."""
import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from conftest import SERVERS, Server
from redis_account import AccountManager

MAJOR = int(redis.__version__.split(".")[0])
DOC = {"stats": {"hp": {"cur": 100, "max": 100, "regen": 0}}, "metrics": {"arena_wins": 3}}


@pytest.fixture(params=list(SERVERS))
def debug_server(request):
    s = Server(request.param, "--enable-debug-command", "yes")
    yield s
    s.stop()


def client(port: int) -> aioredis.Redis:
    """A game backend's client: a short socket timeout, redis-py's default retries (6.x and
    later: 3 on TimeoutError and ConnectionError); on 5.x the same retries, configured."""
    if MAJOR >= 6:
        return aioredis.Redis(port=port, socket_timeout=0.3, decode_responses=True)
    return aioredis.Redis(port=port, socket_timeout=0.3, decode_responses=True,
                          retry=Retry(NoBackoff(), 3), retry_on_error=[RedisTimeoutError, RedisConnectionError])


def stall(port: int, seconds: float = 1.2) -> threading.Thread:
    """Another connection stalls the server (a stand-in for a fork, an fsync stall, a failover)."""
    def run() -> None:
        c = redis.Redis(port=port)
        c.execute_command("DEBUG", "SLEEP", seconds)
        c.close()
    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.1)
    return t


def calls_of(port: int, command: str) -> int:
    stats = redis.Redis(port=port, decode_responses=True).info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


@pytest.mark.parametrize("auto_pipeline", [True, False])
async def test_a_stall_makes_redis_py_resend_and_nothing_applies_twice(debug_server, auto_pipeline):
    r = client(debug_server.port)
    am = AccountManager(r, auto_pipeline=auto_pipeline)
    await am.create_account(1, DOC)
    t = stall(debug_server.port)
    assert await am.increment_metric(1, "arena_wins", 1) == 4
    t.join()
    t = stall(debug_server.port)
    assert await am.damage(1, 10) == (90, 10)
    t.join()
    doc = await am.get_full_account(1)
    assert doc["metrics"]["arena_wins"] == 4 and doc["stats"]["hp"]["cur"] == 90
    # The calls were resent (the timeout fired) and each resend was answered from its record.
    assert calls_of(debug_server.port, "account.incr") >= 2
    assert calls_of(debug_server.port, "account.damage") >= 2
    info = redis.Redis(port=debug_server.port, decode_responses=True).info("account")
    assert info["account_request_replays"] >= 2
    await r.aclose()


async def test_a_stall_inside_a_pipeline_applies_once(debug_server):
    if MAJOR < 6:
        pytest.skip("redis-py 5.x pipelines do not resend after a timeout (nothing can apply twice)")
    r = client(debug_server.port)
    am = AccountManager(r)
    await am.create_account(1, DOC)
    t = stall(debug_server.port)
    async with am.pipeline(transaction=False) as p:
        p.increment_metric(1, "arena_wins", 5).damage(1, 30)
        assert await p.execute() == [8, (70, 30)]
    t.join()
    doc = await am.get_full_account(1)
    assert doc["metrics"]["arena_wins"] == 8 and doc["stats"]["hp"]["cur"] == 70
    await r.aclose()


async def test_without_request_ids_the_same_stall_applies_twice(debug_server):
    """The regression the ids fix, shown on the same setup (so the tests above can fail)."""
    if MAJOR < 6:
        pytest.skip("needs redis-py's default retries")
    r = client(debug_server.port)
    am = AccountManager(r, exactly_once=False)
    await am.create_account(1, DOC)
    t = stall(debug_server.port)
    await am.increment_metric(1, "arena_wins", 1)
    t.join()
    assert (await am.get_full_account(1))["metrics"]["arena_wins"] == 5
    await r.aclose()


class DroppingProxy:
    """Forwards a client's requests to the server and drops the connection instead of passing
    the server's first ``drops`` replies back: the request was applied, the reply never came."""

    def __init__(self, port: int, drops: int = 1) -> None:
        self.target, self.drops, self.dropped = port, drops, 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)
        state = {"write_sent": False}

        async def up() -> None:
            while data := await reader.read(65536):
                state["write_sent"] = state["write_sent"] or b"IDMP" in data
                up_w.write(data)
                await up_w.drain()
            up_w.close()

        async def down() -> None:
            while data := await up_r.read(65536):
                if self.drops > 0 and state["write_sent"]:
                    # The server applied the write; its reply is lost with the connection.
                    self.drops -= 1
                    self.dropped += 1
                    writer.close()
                    up_w.close()
                    return
                writer.write(data)
                await writer.drain()
            writer.close()

        await asyncio.gather(up(), down(), return_exceptions=True)

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.parametrize("auto_pipeline", [True, False])
async def test_a_dropped_reply_is_resent_and_applied_once(server, auto_pipeline):
    proxy = DroppingProxy(server.port, drops=1)
    port = await proxy.start()
    direct = aioredis.Redis(port=server.port, decode_responses=True)
    await AccountManager(direct).create_account(1, DOC)
    r = client(port)
    am = AccountManager(r, auto_pipeline=auto_pipeline)
    assert await am.increment_metric(1, "arena_wins", 2) == 5
    assert proxy.dropped == 1
    assert await direct.execute_command("ACCOUNT.GET", "ac:1", "metrics.arena_wins") == "5"
    await direct.aclose()
    await r.aclose()
    await proxy.close()


async def test_the_applications_own_request_id(am):
    await am.create_account(1, DOC)
    # A redelivered update: the application retries with its own id.
    assert await am.damage(1, 10, request_id="update-77") == (90, 10)
    assert await am.damage(1, 10, request_id="update-77") == (90, 10)
    assert await am.increment_metric(1, "arena_wins", 1, request_id="update-78") == 4
    assert await am.increment_metric(1, "arena_wins", 1, request_id="update-78") == 4
    assert (await am.get_full_account(1))["stats"]["hp"]["cur"] == 90
    # Without one every call is its own request.
    assert await am.damage(1, 10) == (80, 10)
    assert await am.damage(1, 10) == (70, 10)
    with pytest.raises(TypeError):
        await am.damage(1, 10, request_id=5)
    with pytest.raises(ValueError):
        await am.damage(1, 10, request_id="")
    async with am.pipeline(transaction=False) as p:
        p.damage(1, 5, request_id="p-1").damage(1, 5, request_id="p-1")
        assert await p.execute() == [(65, 5), (65, 5)]


async def test_a_slot_migration_between_a_call_and_its_resend_keeps_the_record(cluster, rc):
    """The record lives in the account's slot, so it moves with it (MIGRATE of the slot's keys)."""
    am = AccountManager(rc)
    await am.create_account(1, DOC)
    assert await am.damage(1, 10, request_id="m-1") == (90, 10)
    slot = rc.keyslot("ac:1")
    nodes = [redis.Redis(port=n.port, decode_responses=True) for n in cluster]
    ids = [n.execute_command("CLUSTER", "MYID") for n in nodes]
    owner = next(i for i, n in enumerate(nodes)
                 if any(a <= slot <= b for a, b, *_ in n.execute_command("CLUSTER", "SLOTS")
                        if int(_[0][1]) == cluster[i].port))
    dst = (owner + 1) % len(nodes)
    src_n, dst_n = nodes[owner], nodes[dst]
    dst_n.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner])
    src_n.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst])
    keys = src_n.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
    assert sorted(keys) == ["ac:1", "{ac:1}:idmp"]
    src_n.execute_command("MIGRATE", "127.0.0.1", cluster[dst].port, "", 0, 5000, "KEYS", *keys)
    for n in nodes:
        n.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[dst])
    # The resend reaches the new owner (after a MOVED) and is answered from the record.
    assert await am.damage(1, 10, request_id="m-1") == (90, 10)
    assert dst_n.execute_command("ACCOUNT.GET", "ac:1", "stats.hp.cur") == "90"
    for n in nodes:
        n.close()
