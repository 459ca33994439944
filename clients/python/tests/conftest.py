"""Servers for the client tests: a standalone Redis (Stack 7.4.1 and 7.0.15) and a three-primary
Redis Cluster, each on free loopback ports with RedisJSON and the module, stopped afterwards."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis
import redis.asyncio as aioredis

from redis_account import AccountManager

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
STACK = os.path.join(ROOT, ".deps", "stack")
ENV = dict(os.environ, LD_LIBRARY_PATH=os.path.join(ROOT, ".deps/ssl/usr/lib/x86_64-linux-gnu"))
MODULE = os.environ.get("ACCOUNT_SO", os.path.join(ROOT, "target/release/libredis_account.so"))
SERVERS = {"stack74": os.path.join(STACK, "bin/redis-server"), "debian70": "/usr/bin/redis-server"}


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port(cluster: bool = False) -> int:
    """A free loopback port; for a cluster node one whose bus port (+10000) is free too."""
    if not cluster:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    import random
    for _ in range(1000):
        p = random.randint(20000, 30000)
        if _free(p) and _free(p + 10000):
            return p
    raise RuntimeError("no free port pair")


class Server:
    def __init__(self, binary: str, *extra: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="pyredis-")
        self.port = free_port(cluster="--cluster-enabled" in extra)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", "redis.log",
             "--loadmodule", os.path.join(STACK, "lib/rejson.so"), "--loadmodule", MODULE, *extra],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(500):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        log = open(os.path.join(self.dir, "redis.log")).read() if os.path.exists(os.path.join(self.dir, "redis.log")) else ""
        self.stop()
        raise RuntimeError(f"redis-server did not start: {log}")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=sorted(SERVERS))
def server(request):
    s = Server(SERVERS[request.param])
    yield s
    s.stop()


@pytest.fixture
async def r(server):
    client = aioredis.Redis(port=server.port, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def am(r):
    """The manager as the original's call sites get it: errors logged, the original's returns."""
    return AccountManager(r)


@pytest.fixture
async def am_strict(r):
    """The manager with typed exceptions (``raise_errors=True``)."""
    return AccountManager(r, raise_errors=True)


@pytest.fixture(scope="session")
def cluster():
    """Three primaries (Redis Stack 7.4.1), slots spread by redis-cli --cluster create."""
    nodes = [Server(SERVERS["stack74"], "--cluster-enabled", "yes", "--cluster-node-timeout", "5000") for _ in range(3)]
    try:
        subprocess.run([os.path.join(STACK, "bin/redis-cli"), "--cluster", "create",
                        *[f"127.0.0.1:{n.port}" for n in nodes], "--cluster-yes"],
                       env=ENV, check=True, capture_output=True, timeout=60)
        for n in nodes:
            c = redis.Redis(port=n.port, decode_responses=True)
            for _ in range(300):
                if c.cluster("info")["cluster_state"] == "ok":
                    break
                time.sleep(0.05)
        yield nodes
    finally:
        for n in nodes:
            n.stop()


@pytest.fixture
async def rc(cluster):
    client = aioredis.RedisCluster(host="127.0.0.1", port=cluster[0].port, decode_responses=True)
    await client.initialize()
    await client.flushall()
    yield client
    await client.aclose()
