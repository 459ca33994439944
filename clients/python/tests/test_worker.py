"""The persistence worker (redis_account.worker) against real servers and a real PostgreSQL:
every logout saved once and acknowledged, the version guard (replays, reordering), poison to the
dead-letter stream, pending entries of a crashed consumer claimed, a database outage that stops
the acknowledging, the game's own table, a cluster's per-slot streams, and the login direction
(restore_session) as a round trip."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from redis_account import AccountManager
from redis_account.worker import SessionSaver, load_session


@pytest.fixture
async def pg(postgres):
    """A connection to the session's PostgreSQL, the worker's tables dropped first."""
    conn = await asyncpg.connect(postgres.dsn)
    for t in ("account_sessions", "game_chars", "custom_saves"):
        await conn.execute(f"DROP TABLE IF EXISTS {t}")
    yield conn
    await conn.close()


@pytest.fixture
async def rb(server):
    """A bytes client, as the worker takes it."""
    client = aioredis.Redis(port=server.port)
    yield client
    await client.aclose()


async def drain(saver: SessionSaver, r: Any, stream: str = "logouts", timeout: float = 30.0) -> None:
    """Runs the worker's rounds until its group has read and acknowledged everything."""
    deadline = time.monotonic() + timeout
    while True:
        await saver.step()
        stats = await saver.stats()
        if stats["pending"] == 0 and stats["lag"] in (0, "unknown") and (
                stats["lag"] == 0 or await _all_read(r, stream, saver.group)):
            return
        assert time.monotonic() < deadline, stats


async def _all_read(r: Any, stream: str, group: str) -> bool:
    info = await r.execute_command("XINFO", "STREAM", stream)
    last = dict(zip(info[0::2], info[1::2]))[b"last-generated-id"]
    for g in await r.execute_command("XINFO", "GROUPS", stream):
        g = dict(zip(g[0::2], g[1::2]))
        if g[b"name"] == group.encode():
            return bool(g[b"last-delivered-id"] == last)
    return False


def saver_of(rb: Any, postgres: Any, **kw: Any) -> SessionSaver:
    kw.setdefault("block_ms", 50)
    return SessionSaver(rb, postgres.dsn, consumer=kw.pop("consumer", "t1"), **kw)


async def rows(pg: Any, table: str = "account_sessions") -> dict[int, Any]:
    return {r["char_id"]: r for r in await pg.fetch(f"SELECT * FROM {table}")}


async def test_every_logout_is_saved_once_with_its_document_and_acknowledged(r, rb, pg, postgres):
    am = AccountManager(r, raise_errors=True)
    ids = {}
    for i in range(1, 51):
        await am.create_account(i, {"bio": {"name": f"hero{i}"}, "state": "exploration"})
        await am.damage(i, i % 7 + 1)
        ids[i] = await am.logout(i, "logouts")
    entries = {e[1]["key"]: (e[0], e[1]) for e in await r.xrange("logouts")}
    saver = saver_of(rb, postgres)
    await drain(saver, rb)
    got = await rows(pg)
    assert sorted(got) == list(range(1, 51))
    for i, row in got.items():
        eid, fields = entries[f"ac:{i}"]
        assert eid == ids[i]
        assert json.loads(row["doc"]) == json.loads(fields["doc"])
        assert (row["version_ms"], row["version_seq"]) == tuple(map(int, eid.split("-")))
        assert row["reason"] == "logout"
        assert json.loads(row["doc"])["bio"]["name"] == f"hero{i}"
    assert (await r.xpending("logouts", "savers"))["pending"] == 0
    stats = await saver.stats()
    assert (stats["entries_saved"], stats["rows_written"], stats["dead_lettered"], stats["stale_skipped"]) == (50, 50, 0, 0)
    info = await saver.info()
    assert info.startswith("# Worker\r\n") and "entries_saved:50\r\n" in info and "pending:0\r\n" in info


async def test_a_replayed_stream_changes_nothing(r, rb, pg, postgres):
    am = AccountManager(r, raise_errors=True)
    for i in range(1, 21):
        await am.create_account(i, {"bio": {"name": f"v1-{i}"}})
        await am.logout(i, "logouts")
        await am.create_account(i, {"bio": {"name": f"v2-{i}"}})  # logged in again, played, out again
        await am.logout(i, "logouts")
    saver = saver_of(rb, postgres)
    await drain(saver, rb)
    before = await rows(pg)
    assert {json.loads(v["doc"])["bio"]["name"] for v in before.values()} == {f"v2-{i}" for i in range(1, 21)}
    await r.execute_command("XGROUP", "SETID", "logouts", "savers", "0")
    again = saver_of(rb, postgres, consumer="t2")
    await drain(again, rb)
    assert await rows(pg) == before  # saved_at included: no row was written again
    s = await again.stats()
    assert (s["entries_saved"], s["rows_written"], s["stale_skipped"]) == (40, 0, 40)


async def test_an_older_entry_never_overwrites_a_newer_save_compared_as_ms_then_seq(r, rb, pg, postgres):
    doc = lambda name: json.dumps({"bio": {"name": name}})  # noqa: E731
    # Reordered delivery: the newer entry saved first (stream a), the older one after (stream b).
    await r.xadd("a", {"key": "ac:9", "ts": "1", "doc": doc("new")}, id="1000-5")
    await r.xadd("b", {"key": "ac:9", "ts": "1", "doc": doc("old-seq")}, id="1000-4")
    await r.xadd("b2", {"key": "ac:9", "ts": "1", "doc": doc("old-ms")}, id="999-9")
    await drain(saver_of(rb, postgres, stream="a"), rb, "a")
    await drain(saver_of(rb, postgres, stream="b"), rb, "b")
    await drain(saver_of(rb, postgres, stream="b2"), rb, "b2")
    row = (await rows(pg))[9]
    assert (json.loads(row["doc"])["bio"]["name"], row["version_ms"], row["version_seq"]) == ("new", 1000, 5)
    # A later one (same ms, next seq) wins.
    await r.xadd("b", {"key": "ac:9", "ts": "1", "doc": doc("newer")}, id="1000-6")
    await drain(saver_of(rb, postgres, stream="b"), rb, "b")
    row = (await rows(pg))[9]
    assert (json.loads(row["doc"])["bio"]["name"], row["version_seq"]) == ("newer", 6)
    # Within one batch, out of order: the newest of the batch is what is saved.
    await r.xadd("c", {"key": "ac:10", "doc": doc("x1")}, id="5-1")
    await r.xadd("c", {"key": "ac:10", "doc": doc("x2")}, id="5-2")
    await drain(saver_of(rb, postgres, stream="c"), rb, "c")
    assert json.loads((await rows(pg))[10]["doc"])["bio"]["name"] == "x2"


async def test_poison_goes_to_the_dead_letter_stream_with_why_and_never_blocks_the_group(r, rb, pg, postgres):
    good = json.dumps({"bio": {"name": "ok"}})
    await r.xadd("logouts", {"key": "ac:1", "doc": good})
    await rb.xadd("logouts", {b"key": b"ac:2"})                                  # no doc
    await rb.xadd("logouts", {b"key": b"ac:3", b"doc": b"{not json"})            # bad JSON
    await rb.xadd("logouts", {b"key": b"ac:4", b"doc": b"[1,2]"})                # not an object
    await rb.xadd("logouts", {b"key": b"user:5", b"doc": good.encode()})         # no ac:<id>
    await rb.xadd("logouts", {b"key": b"ac:6x", b"doc": good.encode()})          # not an integer
    await rb.xadd("logouts", {b"doc": good.encode()})                            # no key
    await rb.xadd("logouts", {b"key": b"ac:8", b"doc": b'{"a":"\xff"}'})         # not UTF-8
    await rb.xadd("logouts", {b"key": b"ac:9", b"doc": b'{"a":"\\u0000"}'})      # PostgreSQL refuses it
    await rb.xadd("logouts", {b"key": b"ac:99999999999999999999", b"doc": good.encode()})  # beyond bigint
    await r.xadd("logouts", {"key": "{s7}ac:11", "doc": good, "reason": "idle"})
    saver = saver_of(rb, postgres, batch=4)
    await drain(saver, rb)
    got = await rows(pg)
    assert sorted(got) == [1, 11] and got[11]["reason"] == "idle"
    dead = [(i, {k.decode(): v.decode(errors="replace") for k, v in f.items()}) for i, f in await rb.xrange("logouts:dead")]
    whys = {d[1].get("field:key"): d[1]["error"] for d in dead}
    assert len(dead) == len(whys) == 9
    bad_id = "the key has no integer char_id after its last ac:"
    assert {k: w.split(":")[0] for k, w in whys.items()} == {
        "ac:2": "no doc field", "ac:3": "doc is not JSON", "ac:4": "doc is not a JSON object",
        "user:5": "the key has no integer char_id after its last ac", "ac:6x": bad_id.split(":")[0],
        None: "no key field", "ac:8": "doc is not JSON", "ac:9": "refused by the database",
        "ac:99999999999999999999": bad_id.split(":")[0]}
    assert whys["user:5"] == whys["ac:6x"] == bad_id
    assert whys["ac:9"].startswith("refused by the database: UntranslatableCharacterError: unsupported Unicode escape sequence")
    assert [f[b"field:doc"] for _, f in await rb.xrange("logouts:dead") if f.get(b"field:key") == b"ac:8"] == [b'{"a":"\xff"}']
    assert all(d[1]["stream"] == "logouts" and d[1]["group"] == "savers" for d in dead)
    assert (await r.xpending("logouts", "savers"))["pending"] == 0
    assert (await saver.stats())["dead_lettered"] == 9


async def test_entries_a_crashed_consumer_left_pending_are_claimed(r, rb, pg, postgres):
    am = AccountManager(r, raise_errors=True)
    for i in range(1, 31):
        await am.create_account(i, {})
        await am.logout(i, "logouts")
    await r.xgroup_create("logouts", "savers", "0")
    # The crashed worker: read everything, saved nothing, acknowledged nothing.
    await r.xreadgroup("savers", "crashed", {"logouts": ">"}, count=100)
    assert (await r.xpending("logouts", "savers"))["pending"] == 30
    saver = saver_of(rb, postgres, claim_idle_ms=200, claim_interval=0.05, batch=7)
    await saver.step()
    assert await rows(pg) == {}  # not idle long enough yet: left to its owner
    await asyncio.sleep(0.3)
    await drain(saver, rb)
    assert sorted(await rows(pg)) == list(range(1, 31))
    assert (await saver.stats())["claimed"] == 30
    consumers = {c["name"]: c["pending"] for c in await r.xinfo_consumers("logouts", "savers")}
    assert consumers["crashed"] == 0


async def test_a_database_outage_acknowledges_nothing_and_resumes_without_loss(r, rb, pg, postgres):
    am = AccountManager(r, raise_errors=True)
    await pg.close()
    saver = saver_of(rb, postgres, retry_initial=0.02, retry_max=0.1)
    await saver.step()  # the table exists
    postgres.kill()
    try:
        for i in range(1, 41):
            await am.create_account(i, {})
            await am.logout(i, "logouts")
        task = asyncio.create_task(saver.run())
        await asyncio.sleep(1.0)
        assert not task.done()
        assert (await r.xpending("logouts", "savers"))["pending"] == 40  # read, none acknowledged
        assert saver.metrics.retried >= 3 and saver.metrics.entries_saved == 0
    finally:
        postgres.start()
    deadline = time.monotonic() + 20
    while (await r.xpending("logouts", "savers"))["pending"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    saver.stop()
    await task
    conn = await asyncpg.connect(postgres.dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM account_sessions") == 40
    finally:
        await conn.close()


async def test_the_games_own_table_by_a_column_mapping_or_a_callback(r, rb, pg, postgres):
    await r.xadd("logouts", {"key": "ac:5", "doc": json.dumps({"bio": {"name": "m"}}), "reason": "evicted"})
    saver = saver_of(rb, postgres, table="game_chars", columns={"char_id": "id", "doc": "data", "saved_at": "at"})
    await drain(saver, rb)
    row = await pg.fetchrow("SELECT id, data, version_ms, reason, at FROM game_chars")
    assert (row["id"], json.loads(row["data"]), row["reason"]) == (5, {"bio": {"name": "m"}}, "evicted")
    with pytest.raises(ValueError, match="unknown names"):
        saver_of(rb, postgres, columns={"oops": "x"})

    await pg.execute("CREATE TABLE custom_saves (char_id bigint, name text, v numeric, reason text)")
    calls = []

    async def save(conn: Any, char_id: int, doc: dict, version: tuple[int, int], reason: str) -> None:
        calls.append((char_id, version, reason))
        await conn.execute("INSERT INTO custom_saves VALUES ($1, $2, $3, $4)", char_id, doc["bio"]["name"],
                           version[0] * 10**20 + version[1], reason)

    await r.execute_command("XGROUP", "CREATE", "logouts", "g2", "0")
    saver = saver_of(rb, postgres, group="g2", save=save)
    await drain(saver, rb)
    eid = (await r.xrange("logouts"))[0][0]
    assert calls == [(5, tuple(map(int, eid.split("-"))), "evicted")]
    assert [tuple(x) for x in await pg.fetch("SELECT char_id, name, reason FROM custom_saves")] == [(5, "m", "evicted")]


def _no_clocks(doc: dict) -> dict:
    d = json.loads(json.dumps(doc))
    d["stats"]["last_update"] = None
    for v in d["stats"].values():
        if isinstance(v, dict):
            v["since"] = None
    return d


async def test_round_trip_login_from_postgres_play_logout_save_login_again(r, rb, pg, postgres):
    am = AccountManager(r, raise_errors=True)
    saver = saver_of(rb, postgres)
    await saver.step()
    # The game's database has the character (a previous session's save).
    start = {"bio": {"name": "Aragorn"}, "state": "exploration",
             "stats": {"hp": {"cur": 100, "max": 100, "regen": 0.0}, "mp": {"cur": 50, "max": 50, "regen": 0.0}}}
    await pg.execute("INSERT INTO account_sessions VALUES (42, $1::jsonb, 1, 0, 'logout', now())", json.dumps(start))
    # Login: restore from PostgreSQL.
    assert await am.restore_session(42, await load_session(pg, 42)) is True
    assert await am.restore_session(42, {"bio": {"name": "other"}}) is False  # live session kept (NX)
    # Play.
    assert await am.damage(42, 30) == (70, 30)
    assert await am.increment_metric(42, "arena_wins", 2) == 2
    assert await am.move(42, "rivendell") == "start_village"
    played = await am.get_full_account(42)
    # Logout; the worker saves.
    await am.logout(42, "logouts")
    assert await r.exists("ac:42") == 0
    await drain(saver, rb)
    saved = await load_session(pg, 42)
    assert saved is not None and _no_clocks(saved) == _no_clocks(played)
    # Login again: the same character.
    assert await am.restore_session(42, saved) is True
    again = await am.get_full_account(42)
    assert _no_clocks(again) == _no_clocks(played)
    assert (again["stats"]["hp"]["cur"], again["metrics"]["arena_wins"], again["location"]["current"]) == (70, 2, "rivendell")
    assert await load_session(pg, 7) is None


async def test_restore_restarts_the_vitals_clocks_unless_offline_regen(r):
    am = AccountManager(r, raise_errors=True)
    an_hour_ago = time.time() - 3600
    saved = {"stats": {"hp": {"cur": 40, "max": 100, "regen": 1.0, "since": an_hour_ago}}}
    assert await am.restore_session(1, json.dumps(saved)) is True
    hp = (await am.get_full_account(1))["stats"]["hp"]
    assert hp["cur"] == 40 and hp["since"] >= an_hour_ago + 3500  # the clock starts at the login
    await asyncio.sleep(1.1)
    assert (await am.get_full_account(1))["stats"]["hp"]["cur"] in (41, 42)  # and runs from there
    # Kept clocks: the hour offline regenerates (what ACCOUNT.CREATE alone does).
    assert await am.restore_session(2, saved, offline_regen=True) is True
    assert (await am.get_full_account(2))["stats"]["hp"]["cur"] == 100


async def test_a_cluster_worker_reads_every_per_slot_stream_on_every_primary(cluster, pg, postgres):
    rc = aioredis.RedisCluster(host="127.0.0.1", port=cluster[0].port)
    await rc.initialize()
    try:
        await rc.flushall()
        tags = [str(t) for t in range(12)]  # spread over the three primaries
        assert len({rc.keyslot(f"logouts{{{t}}}") * 3 // 16384 for t in tags}) == 3
        for n, t in enumerate(tags):
            await rc.xadd(f"logouts{{{t}}}", {"key": f"{{{t}}}ac:{n + 1}", "doc": json.dumps({"n": n}), "reason": "idle"})
        await rc.xadd("logouts{0}", {"key": "bad", "doc": "{}"})  # its dead letter is not read as a stream
        saver = SessionSaver(rc, postgres.dsn, consumer="c1", scan_interval=0.0, block_ms=10)
        assert saver._is_cluster()
        deadline = time.monotonic() + 30
        while True:
            await saver.step()
            s = await saver.stats()
            if s["entries_saved"] == 12 and s["dead_lettered"] == 1 and s["pending"] == 0:
                break
            assert time.monotonic() < deadline, s
        got = await rows(pg)
        assert {k: json.loads(v["doc"])["n"] for k, v in got.items()} == {n + 1: n for n in range(12)}
        assert s["streams"] == 12
        assert len(await rc.xrange("logouts{0}:dead")) == 1
    finally:
        await rc.aclose()
