"""Every method inside a redis-py pipeline and a MULTI/EXEC transaction: the commands are built
without I/O (redis_account.commands) and their replies parsed after execute()."""
from __future__ import annotations

import json
import logging

import pytest

from redis_account import AccountManager, NoAccount
from redis_account.commands import Commands


def test_arguments_are_built_without_io():
    c = Commands("ac:{char_id}", "lobby_session:{user_id}", 600, lambda keys: [list(keys)] if keys else [])
    assert c.enter_scenario(7, "s-1", "q").calls == [
        ("ACCOUNT.STATE", "ac:7", "SCENARIO", "SET", "sessions.scenario_id", '"s-1"', "active_quest", '"q"')]
    assert c.leave_scenario(7).calls == [
        ("ACCOUNT.STATE", "ac:7", "EXPLORATION", "SET", "sessions.scenario_id", "null", "active_quest", "null")]
    assert c.transition_state(7, "combat", "exploration", {"sessions.combat_id": "c"}).calls == [
        ("ACCOUNT.STATE", "ac:7", "combat", "FROM", "exploration", "SET", "sessions.combat_id", '"c"')]
    assert c.update_account_fields(7, {"$.location": {"current": "a"}, "tokens": {"t": 1}}).calls == [
        ("ACCOUNT.SET", "ac:7", "location", '{"current":"a"}', "tokens", '{"t":1}')]
    assert c.update_account_fields(7, {}).calls == []
    assert c.get_account_field(7, "$").calls == [("ACCOUNT.GET", "ac:7")]
    assert c.get_account_field(7, ".bio.name").calls == [("ACCOUNT.GET", "ac:7", "bio.name")]
    assert c.get_account_field(7, "$.skills[0]").calls == [("JSON.GET", "ac:7", "$.skills[0]")]
    assert c.get_accounts_json_batch([1, 2], "vitals").calls == [("ACCOUNT.MGET", "PATH", "vitals", "ac:1", "ac:2")]
    assert c.set_lobby_cache(3, []).calls == [("LOBBY.SETCACHE", "lobby_session:3", "[]", "EX", 600)]
    # Parsing is separate: replies in, the method's result out.
    assert c.get_gear_score(7).parse([None], False) == 0
    assert c.damage(7, 5).parse([[95, 5]], False) == (95, 5)


async def commandstat(r, name: str) -> int:
    return int((await r.info("commandstats")).get(f"cmdstat_{name}", {}).get("calls", 0))


@pytest.mark.parametrize("transaction", [False, True])
async def test_every_kind_of_method_in_a_pipeline(am, transaction):
    r = am.redis
    execs = await commandstat(r, "exec")
    p = am.pipeline(transaction=transaction)
    p.create_account(1, {"bio": {"name": "A"}, "state": "exploration"})
    p.create_account(2, {})
    p.update_bio_field(1, "gender", "male").get_bio(1)  # methods chain
    p.damage(1, 30).update_stat_current(1, "mp", 20).get_stats(1)
    p.enter_scenario(1, "s-1", "q-1").get_account_field(1, "active_quest")
    p.bulk_link_combat_session([1, 2], "c-1").get_accounts_json_batch([1, 404, 2], "sessions.combat_id")
    p.get_gear_score(404).increment_metric(1, "arena_wins", 3).get_lobby_cache(5)
    p.execute_command("PING")
    assert len(p) == 15
    out = await p.execute()
    assert out[:3] == [None, None, None]
    assert out[3] == {"name": "A", "gender": "male", "created_at": None}
    assert out[4] == (70, 30) and out[5] is None
    stats = out[6]
    assert (stats["hp"]["cur"], stats["mp"]["cur"]) == (70, 20) and stats["last_update"] is not None
    assert out[7:9] == [None, "q-1"]
    assert out[9:11] == [None, ["c-1", None, "c-1"]]
    assert out[11:14] == [0, 3, None]
    assert out[14] in ("PONG", True)
    doc = json.loads(await r.execute_command("JSON.GET", "ac:1"))
    assert (doc["state"], doc["prev_state"], doc["active_quest"]) == ("SCENARIO", "exploration", "q-1")
    assert await commandstat(r, "exec") == execs + (1 if transaction else 0)
    assert len(p) == 0 and await p.execute() == []


async def test_errors_in_a_pipeline_follow_the_managers_mode(r, caplog):
    caplog.set_level(logging.WARNING, logger="redis_account")
    await AccountManager(r).create_account(1, {})
    async with AccountManager(r).pipeline() as p:  # default: logged, the original's return
        out = await p.update_bio(404, {"name": "x"}).increment_metric(404, "arena_wins", 2).get_bio(1).execute()
    assert out[0] is None and out[1] == 2 and out[2]["name"] is None
    assert sum("NOACCOUNT" in rec.getMessage() for rec in caplog.records) == 2
    p = AccountManager(r, raise_errors=True).pipeline()
    p.update_bio(404, {"name": "x"}).get_bio(1)
    with pytest.raises(NoAccount):
        await p.execute()


async def test_a_transaction_with_watch(am):
    # The redis-py transaction helper: WATCH the key, read, then queue module commands.
    await am.create_account(1, {"state": "exploration"})
    async with am.redis.pipeline(transaction=True) as pipe:
        await pipe.watch("ac:1")
        state = json.loads(await pipe.execute_command("ACCOUNT.GET", "ac:1", "state"))
        pipe.multi()
        p = am.pipeline()
        p.pipe = pipe  # queue into the watched transaction
        p.transition_to_state(1, "combat" if state == "exploration" else "lobby").get_state(1)
        assert await p.execute() == [None, "combat"]


async def test_a_cluster_pipeline(rc):
    am = AccountManager(rc)
    p = am.pipeline(transaction=None)
    for i in range(1, 11):
        p.create_account(i, {"bio": {"name": f"n{i}"}})
    p.bulk_link_combat_session(range(1, 11), "c-9")
    for i in range(1, 11):
        p.get_bio(i)
    out = await p.execute()
    assert out[:11] == [None] * 11
    assert [b["name"] for b in out[11:]] == [f"n{i}" for i in range(1, 11)]
    assert await am.get_accounts_json_batch(range(1, 11), "sessions.combat_id") == ["c-9"] * 10
