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

Three sides run each flow: the original's way, this client with its automatic pipelining (the
default), and this client with it off (each call sent alone: what any plain client of another
language costs the server). For each flow and side: flows per second over all tasks, the p50/p99
latency of one flow, and the server's own CPU per flow (redis-server's utime+stime from
/proc/PID/stat over the run, divided by the flows completed: Redis runs commands on one thread,
so this is what sets how many players one node carries). The sides rotate for
BENCH_FLOW_ROUNDS rounds (the median is shown) of BENCH_FLOW_SECONDS each. BENCH_FLOWS=onboarding,lobby
runs only the flows named; BENCH_FLOW_SIDES=original,module picks sides. The machine's PING rate
(redis-benchmark -P 16) is printed with the tables, so runs on a busier machine can be read.
Asserts nothing: the tables and the goal lines are for people.
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
FULL = os.environ.get("BENCH_FULL", "0") not in ("", "0")
SECONDS = float(os.environ.get("BENCH_FLOW_SECONDS", "3" if FULL else "2"))
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

    def cpu_seconds(self) -> float:
        """The server process's own CPU time so far (user + system), from /proc/PID/stat."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ping_rate(port: int) -> float:
    """PING per second at pipeline 16 from redis-benchmark: how busy the machine is right now."""
    out = subprocess.run([f"{STACK}/bin/redis-benchmark", "-p", str(port), "-c", "50", "-P", "16", "-n", "300000",
                          "-q", "--csv", "PING"], env=ENV, capture_output=True, text=True, check=True).stdout
    line = [ln for ln in out.splitlines() if ln and not ln.startswith('"test"')][-1]
    return float(line.split(",")[1].strip('"'))


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


async def run(fn: Callable[[int], Awaitable[None]], srv: Server) -> Tuple[float, List[float], float]:
    """Runs one flow from TASKS tasks for SECONDS: (flows/s, latencies, server CPU s per flow)."""
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
    cpu0 = srv.cpu_seconds()
    await asyncio.gather(*[worker() for _ in range(TASKS)])
    cpu = srv.cpu_seconds() - cpu0
    return len(lat) / (time.perf_counter() - t0), lat, cpu / max(1, len(lat))


def pct(xs: List[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


SIDES = {"original": "the original's way", "module": "this client", "plain": "this client, auto-pipeline off"}
# The server-CPU goals (issue 23): this client at most half the original's CPU per flow; a plain
# client (auto-pipeline off) at most half where the module saves round trips and never more than
# the original where both make the same calls.
PLAIN_GOAL = {"onboarding": 1.0, "lobby": 1.0}


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
        clients = {"original": OriginalWay(r), "module": AccountManager(r), "plain": AccountManager(r, auto_pipeline=False)}
        wanted = [n.strip() for n in os.environ.get("BENCH_FLOW_SIDES", "original,module,plain").split(",") if n.strip()]
        sides = [s for s in SIDES if s in wanted]
        only = [n.strip() for n in os.environ.get("BENCH_FLOWS", "").split(",") if n.strip()]
        names = [n for n in flows("module", clients["module"]) if not only or n in only]
        results: Dict[Tuple[str, str], List[Tuple[float, float, float, float]]] = {}
        pings = [ping_rate(srv.port)]
        for name in names:
            for rnd in range(ROUNDS):
                for side in sides[rnd % len(sides):] + sides[:rnd % len(sides)]:
                    await seed(r, side)
                    rate, lat, cpu = await run(flows(side, clients[side])[name], srv)
                    results.setdefault((name, side), []).append((rate, pct(lat, 0.5), pct(lat, 0.99), cpu * 1e6))
        pings.append(ping_rate(srv.port))

        def med(name: str, side: str, i: int) -> float:
            return statistics.median(x[i] for x in results[(name, side)])

        print(f"\nThe original's flows from redis.asyncio, {TASKS} concurrent tasks, {ACCOUNTS} accounts, median of "
              f"{ROUNDS} rounds of {SECONDS:g} s (Redis Stack 7.4.1, one server); this machine's PING rate "
              f"(pipeline 16) before / after: {pings[0]:,.0f} / {pings[1]:,.0f} per s\n")
        others = [s for s in sides if s != "original"]
        if "original" in sides:
            print("Flows per second and latency (goal: this client >= 2x the flows/s, <= half the p99):\n")
            print("| flow | side | flows/s | ratio | p50 / p99 ms | p99 ratio |")
            print("|---|---|---|---|---|---|")
            for name in names:
                o = (med(name, "original", 0), med(name, "original", 2))
                print(f"| {name} | {SIDES['original']} | {o[0]:,.0f} | | {med(name, 'original', 1):.2f} / {o[1]:.2f} | |")
                for side in others:
                    m = (med(name, side, 0), med(name, side, 2))
                    mark = " (goal met)" if side == "module" and m[0] >= 2 * o[0] and m[1] <= o[1] / 2 else (
                        " (goal MISSED)" if side == "module" else "")
                    print(f"| {name} | {SIDES[side]} | {m[0]:,.0f} | {m[0] / o[0]:.2f}x{mark} | "
                          f"{med(name, side, 1):.2f} / {m[1]:.2f} | {m[1] / o[1]:.2f} |")
            print("\nServer CPU per flow (redis-server's own utime+stime / flows completed), µs, and the ratio to the "
                  "original's way (goals: this client <= 0.5x every flow; auto-pipeline off <= 0.5x for combat, menu "
                  "and scenario, <= 1.0x for onboarding and lobby):\n")
            print("| flow | original µs | " + " | ".join(f"{SIDES[s]} µs | ratio" for s in others) + " |")
            print("|---|---|" + "---|---|" * len(others))
            for name in names:
                o = med(name, "original", 3)
                cells = []
                for side in others:
                    m = med(name, side, 3)
                    goal = 0.5 if side == "module" else PLAIN_GOAL.get(name, 0.5)
                    cells.append(f"{m:.1f} | {m / o:.2f}x {'met' if m / o <= goal else 'MISSED'} (<= {goal:g})")
                print(f"| {name} | {o:.1f} | " + " | ".join(cells) + " |")
        else:
            for name in names:
                for side in sides:
                    print(f"{name:<14} {SIDES[side]:<32} {med(name, side, 0):>9,.0f} flows/s  "
                          f"p99 {med(name, side, 2):6.2f} ms  server CPU {med(name, side, 3):6.1f} µs/flow")
    finally:
        await r.aclose()
        srv.stop()


if __name__ == "__main__":
    asyncio.run(main())
