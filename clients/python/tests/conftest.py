"""Servers for the client tests: each supported server standalone (tests/servers.tsv: Redis 7.0.15,
Redis Stack 7.4.1, Redis 8.2.3, Valkey 8.1.8, Valkey 9.1.2) and a three-primary cluster of each,
on free loopback ports with RedisJSON 2.8.3 and the module, stopped afterwards.
ACCOUNT_SERVERS=stack-7.4,valkey-9.1 narrows a local run to the servers named."""
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
REJSON = os.path.join(ROOT, ".deps", "stack", "lib", "rejson.so")
MODULE = os.environ.get("ACCOUNT_SO", os.path.join(ROOT, "target/release/libredis_account.so"))


def _servers() -> dict[str, dict[str, str]]:
    """tests/servers.tsv, the one list of supported servers: name -> its fields."""
    out = {}
    with open(os.path.join(ROOT, "tests", "servers.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    header, *rows = rows
    for row in rows:
        e = dict(zip(header, row))
        for k in ("server", "lib", "cli"):
            e[k] = "" if e[k] == "-" else ":".join(os.path.join(ROOT, d) for d in e[k].split(":"))
        out[e["name"]] = e
    wanted = [n.strip() for n in os.environ.get("ACCOUNT_SERVERS", "").split(",") if n.strip()]
    unknown = set(wanted) - set(out)
    if unknown:
        raise RuntimeError(f"ACCOUNT_SERVERS: unknown servers {sorted(unknown)}")
    return {n: e for n, e in out.items() if not wanted or n in wanted}


SERVERS = _servers()


def env(name: str) -> dict[str, str]:
    return dict(os.environ, LD_LIBRARY_PATH=SERVERS[name]["lib"])


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
    def __init__(self, name: str, *extra: str) -> None:
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="pyredis-")
        log_path = os.path.join(self.dir, "redis.log")
        for _attempt in range(5):
            self.port = free_port(cluster="--cluster-enabled" in extra)
            log_from = os.path.getsize(log_path) if os.path.exists(log_path) else 0
            self.proc = subprocess.Popen(
                [SERVERS[name]["server"], "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 # RedisJSON 2.8 frees its documents safely only on the main thread (Valkey's
                 # default lazy FLUSHALL frees them in a background one).
                 "--lazyfree-lazy-user-flush", "no",
                 "--appendonly", "no", "--dir", self.dir, "--logfile", "redis.log",
                 "--loadmodule", REJSON, "--loadmodule", MODULE, *extra],
                env=env(name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return
            with open(log_path, errors="replace") if os.path.exists(log_path) else open(os.devnull) as f:
                f.seek(log_from)
                log = f.read()
            self.proc.kill()
            self.proc.wait()
            if "Address already in use" not in log:  # anything but a port taken meanwhile: give up
                break
        self.stop()
        raise RuntimeError(f"{name} did not start: {log}")

    def _wait_ready(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            for _ in range(500):
                if self.proc.poll() is not None:
                    return False
                try:
                    # Ours only when the answering server is our child (never a stranger on the
                    # port), and the version tests/servers.tsv pins.
                    info = client.info("server")
                    if info["process_id"] == self.proc.pid:
                        e = SERVERS[self.name]
                        field = "valkey_version" if e["kind"] == "valkey" else "redis_version"
                        if str(info.get(field)) != e["version"]:
                            self.stop()
                            raise RuntimeError(f"{self.name}: {field} is {info.get(field)}, not {e['version']}")
                        return True
                except redis.RedisError:
                    pass
                time.sleep(0.02)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=list(SERVERS))
def server(request):
    s = Server(request.param)
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


@pytest.fixture(scope="session", params=list(SERVERS))
def cluster(request):
    """Three primaries of one server kind, slots spread by its cli's --cluster create
    (valkey-cli for Valkey)."""
    name = request.param
    nodes = [Server(name, "--cluster-enabled", "yes", "--cluster-node-timeout", "5000") for _ in range(3)]
    try:
        subprocess.run([SERVERS[name]["cli"], "--cluster", "create",
                        *[f"127.0.0.1:{n.port}" for n in nodes], "--cluster-yes"],
                       env=env(name), check=True, capture_output=True, timeout=60)
        for n in nodes:
            c = redis.Redis(port=n.port, decode_responses=True)
            for _ in range(300):
                if c.cluster("info")["cluster_state"] == "ok":
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"{name} cluster did not reach state ok")
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


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL 18 (tests/pg.py) for the session, stopped afterwards even on failure."""
    from pg import Postgres

    pg = Postgres()
    try:
        yield pg
    finally:
        pg.stop()
