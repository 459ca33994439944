#!/usr/bin/env python3
"""make bench-flows (also run by make bench): the original game's flows as a user sees them, from
redis.asyncio with 50 concurrent tasks, through a client written the original's way (its
JSON.GET/JSON.SET calls, a read before each transition, MULTI pipelines:
clients/python/tests/original_way.py) and through this client (redis_account.AccountManager),
side by side in one run on one Redis Stack 7.4.1 server started for the run.

Flows (each one "flow" = what one player action costs):
  onboarding     the onboarding service: create the session, the name step and the gender
                 step (each reads the account and writes the bio), finalize (the state)
  combat round   damage and stamina cost of one exchange (original: read stats, write hp,
                 write stamina; this client: one ACCOUNT.APPLY)
  menu           read the whole account and apply the menu's own regeneration from
                 stats.last_update, writing stats back when it changed
  scenario       enter a scenario and leave it
  lobby          the cache-aside read of the lobby list (filled on a miss)

For each flow: flows per second over all tasks, and the p50/p99 latency of one flow. The sides
alternate for BENCH_FLOW_ROUNDS rounds (median by flows/s is shown) of BENCH_FLOW_SECONDS each.
BENCH_FLOWS=onboarding,lobby runs only the flows named; BENCH_FLOW_AUTOPIPE=0 runs this client
without its automatic pipelining (each call sent alone), to see what that part gives. Asserts
nothing: the table and the goal line are for people.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "clients/python/src"), os.path.join(ROOT, "clients/python/tests")]

import redis.asyncio as aioredis  # noqa: E402

from original_way import OriginalWay, menu_regen  # noqa: E402
from redis_account import AccountManager  # noqa: E402

STACK = os.path.join(ROOT, ".deps/stack")

def stack_row() -> Dict[str, str]:
    """tests/servers.tsv's stack-7.4 row (the one list of servers, binary and lib column)."""
    with open(os.path.join(ROOT, "tests", "servers.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    header, *rows = rows
    row = dict(zip(header, next(r for r in rows if r[0] == "stack-7.4")))
    for k in ("server", "lib", "cli"):
        row[k] = "" if row[k] == "-" else ":".join(os.path.join(ROOT, d) for d in row[k].split(":"))
    return row


STACK_ROW = stack_row()
ENV = dict(os.environ, LD_LIBRARY_PATH=STACK_ROW["lib"])
MODULE = os.environ.get("ACCOUNT_SO", os.path.join(ROOT, "target/release/libredis_account.so"))
TASKS = 50
ACCOUNTS = int(os.environ.get("BENCH_FLOW_ACCOUNTS", "10000"))  # live sessions
SECONDS = float(os.environ.get("BENCH_FLOW_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_FLOW_ROUNDS", "3"))
ATTRS = ["strength", "agility", "endurance", "intelligence", "wisdom", "men", "perception", "charisma", "luck"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="bench-flows-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [STACK_ROW["server"], "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--logfile", "redis.log",
             "--loadmodule", f"{STACK}/lib/rejson.so", "--loadmodule", MODULE],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def context(char_id: int, rnd: Optional[random.Random] = None) -> Dict[str, Any]:
    hp, mp, st = (rnd.randint(20, 95), rnd.randint(10, 45), rnd.randint(20, 95)) if rnd else (100, 50, 100)
    return {
        "state": "exploration", "prev_state": None,
        "bio": {"name": f"Hero{char_id}", "gender": "male", "created_at": "2025-01-20T10:30:00"},
        "location": {"current": "52_52", "prev": None},
        "stats": {"hp": {"cur": hp, "max": 100, "regen": 1.0}, "mp": {"cur": mp, "max": 50, "regen": 1.0},
                  "stamina": {"cur": st, "max": 100, "regen": 5.0}, "last_update": time.time()},
        "attributes": {a: 8 for a in ATTRS},
        "sessions": {"combat_id": None, "inventory_id": None, "scenario_id": None},
        "metrics": {"gear_score": 0}, "skills": {},
    }


LOBBY = [{"character_id": 1, "user_id": 1, "name": "Hero1", "gender": "male", "game_stage": "in_game",
          "prev_game_stage": None, "location_id": "52_52", "prev_location_id": None, "vitals_snapshot": None,
          "active_sessions": None, "created_at": "2025-01-20T10:30:00", "updated_at": "2025-01-20T10:30:00"}]


# ---- the flows, one function per side --------------------------------------------------------------

def flows(side: str, c: Any) -> Dict[str, Callable[[int], Awaitable[None]]]:
    async def onboarding(i: int) -> None:
        # The original's onboarding service: create the session; name step (read, write bio);
        # gender step (read, write bio); finalize (state).
        cid = 1_000_000 + i
        await c.create_account(cid, context(cid))
        for field, value in (("name", f"New{cid}"), ("gender", "female")):
            raw = await c.get_full_account(cid)
            doc = raw[0] if isinstance(raw, list) else raw
            bio = dict(doc["bio"])
            bio[field] = value
            await c.update_bio(cid, bio)
        await c.set_state(cid, "SCENARIO")

    if side == "original":
        async def combat(i: int) -> None:
            cid = i % ACCOUNTS
            stats = await c.get_stats(cid)
            hp = stats["hp"]["cur"]
            st = stats["stamina"]["cur"]
            await c.update_stat_current(cid, "hp", max(0, hp - 3) if hp > 10 else 100)
            await c.update_stat_current(cid, "stamina", max(0, st - 2) if st > 10 else 100)
    else:
        async def combat(i: int) -> None:
            cid = i % ACCOUNTS
            out = await c.apply(cid, {"hp": -3, "stamina": -2})
            if out["hp"][0] <= 10 or out["stamina"][0] <= 10:
                await c.apply(cid, {"hp": 100, "stamina": 100})

    async def menu(i: int) -> None:
        cid = i % ACCOUNTS
        raw = await c.get_full_account(cid)
        doc = raw[0] if isinstance(raw, list) else raw  # the original answered a one-element list
        if menu_regen(doc["stats"]):
            await c.update_account_fields(cid, {"stats": doc["stats"]})

    async def scenario(i: int) -> None:
        cid = i % ACCOUNTS
        await c.enter_scenario(cid, f"s-{i}", "awakening_rift")
        await c.leave_scenario(cid)

    async def lobby(i: int) -> None:
        uid = i % ACCOUNTS
        chars = await c.get_lobby_cache(uid)
        if chars is None:
            await c.set_lobby_cache(uid, LOBBY)

    return {"onboarding": onboarding, "combat round": combat, "menu": menu, "scenario": scenario, "lobby": lobby}


async def seed(r: Any, side: str) -> None:
    """ACCOUNTS live sessions with vitals below max (as after fights), written the side's way in
    pipelines of 500, and the lobby cache of every other user."""
    await r.flushall()
    rnd = random.Random(7)
    am = AccountManager(r)
    for base in range(0, ACCOUNTS, 500):
        if side == "original":
            pipe = r.pipeline(transaction=False)
            for i in range(base, min(ACCOUNTS, base + 500)):
                pipe.json().set(f"ac:{i}", "$", context(i, rnd))
            await pipe.execute()
        else:
            p = am.pipeline(transaction=False)
            for i in range(base, min(ACCOUNTS, base + 500)):
                p.create_account(i, context(i, rnd))
            await p.execute()
    pipe = r.pipeline(transaction=False)
    for uid in range(0, ACCOUNTS, 2):
        pipe.set(f"lobby_session:{uid}", json.dumps(LOBBY), ex=600)
    await pipe.execute()


async def run(fn: Callable[[int], Awaitable[None]]) -> Tuple[float, List[float]]:
    lat: List[float] = []
    counter = iter(range(10**9))
    stop_at = time.perf_counter() + SECONDS

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            i = next(counter)
            t = time.perf_counter()
            await fn(i)
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(TASKS)])
    return len(lat) / (time.perf_counter() - t0), lat


def pct(xs: List[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


async def main() -> None:
    srv = Server()
    r = aioredis.Redis(port=srv.port, decode_responses=True, max_connections=TASKS + 10)
    try:
        for _ in range(300):
            try:
                await r.ping()
                break
            except Exception:  # noqa: BLE001
                await asyncio.sleep(0.02)
        auto = os.environ.get("BENCH_FLOW_AUTOPIPE", "1") != "0"
        sides = {"original": OriginalWay(r), "module": AccountManager(r, auto_pipeline=auto)}
        only = [n.strip() for n in os.environ.get("BENCH_FLOWS", "").split(",") if n.strip()]
        names = [n for n in flows("module", sides["module"]) if not only or n in only]
        results: Dict[Tuple[str, str], List[Tuple[float, float, float]]] = {}
        for name in names:
            for rnd in range(ROUNDS):
                for side in (("original", "module") if rnd % 2 == 0 else ("module", "original")):
                    c = sides[side]
                    await seed(r, side)
                    rate, lat = await run(flows(side, c)[name])
                    results.setdefault((name, side), []).append((rate, pct(lat, 0.5), pct(lat, 0.99)))
        print(f"\nThe original's flows from redis.asyncio, {TASKS} concurrent tasks, {ACCOUNTS} accounts, "
              f"median of {ROUNDS} rounds of {SECONDS:g} s (Redis Stack 7.4.1, one server; this client's "
              f"automatic pipelining {'on' if auto else 'off'}):\n")
        print("| flow | original's way flows/s | this client flows/s | ratio | original p50 / p99 ms | this client p50 / p99 ms | p99 ratio |")
        print("|---|---|---|---|---|---|---|")
        met = []
        for name in names:
            o = sorted(results[(name, "original")])[ROUNDS // 2]
            m = sorted(results[(name, "module")])[ROUNDS // 2]
            ok = m[0] >= 2 * o[0] and m[2] <= o[2] / 2
            met.append((name, ok))
            print(f"| {name} | {o[0]:,.0f} | {m[0]:,.0f} | {m[0] / o[0]:.2f}x | {o[1]:.2f} / {o[2]:.2f} | "
                  f"{m[1]:.2f} / {m[2]:.2f} | {m[2] / o[2]:.2f} |")
        print("\nGoal (>= 2x flows/s and <= half the p99): "
              + ", ".join(f"{n} {'met' if ok else 'not met'}" for n, ok in met))
    finally:
        await r.aclose()
        srv.stop()


if __name__ == "__main__":
    asyncio.run(main())
