"""Every AccountManager method against a real server with the module (Redis Stack 7.4.1 and
Redis 7.0.15), the error mapping, and the original's flows written as the original calls them."""
from __future__ import annotations

import json
import time

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from redis_account import (
    AccountManager,
    CorruptDocument,
    InsufficientResource,
    InvalidArgument,
    InvalidDocument,
    MetricOverflow,
    NoAccount,
    StateConflict,
    UnknownPath,
    WrongType,
)

DEFAULT_STATS = {
    "hp": {"cur": 100, "max": 100},
    "mp": {"cur": 50, "max": 50},
    "stamina": {"cur": 100, "max": 100},
}


def initial_data():
    """The document the original LoginService builds (AccountManager.ru.md, Onboarding Flow)."""
    return {
        "state": "ONBOARDING",
        "bio": {"name": None, "gender": None, "created_at": None},
        "location": {"current": "start_village", "prev": None},
        "stats": json.loads(json.dumps(DEFAULT_STATS)),
        "attributes": {a: 8 for a in ["strength", "agility", "endurance", "intelligence", "wisdom", "men", "perception", "charisma", "luck"]},
        "sessions": {"combat_id": None, "inventory_id": None},
        "skills": {},
    }


# ---- the original's flows, as its code calls them -----------------------------------------------

async def test_onboarding_flow(am):
    account_manager, char_id = am, 42
    await account_manager.create_account(char_id, initial_data())
    bio = {"name": "Aragorn", "gender": None, "created_at": "2025-01-20T10:30:00Z"}
    await account_manager.update_bio(char_id, bio)
    bio = {"name": "Aragorn", "gender": "male", "created_at": "2025-01-20T10:30:00Z"}
    await account_manager.update_bio(char_id, bio)
    await account_manager.set_state(char_id, "SCENARIO")
    assert await account_manager.get_bio(char_id) == bio
    assert await account_manager.get_state(char_id) == "SCENARIO"
    assert (await account_manager.get_full_account(char_id))["prev_state"] is None  # set_state: state only


async def test_combat_flow(am):
    account_manager, char_id = am, 7
    await account_manager.create_account(char_id, initial_data())
    await account_manager.set_state(char_id, "COMBAT")
    await account_manager.set_combat_session(char_id, "c_123")
    await account_manager.update_stat_current(char_id, "hp", 75)
    await account_manager.update_stat_current(char_id, "mp", 20)
    assert (await account_manager.get_sessions(char_id))["combat_id"] == "c_123"
    stats = await account_manager.get_stats(char_id)
    assert (stats["hp"]["cur"], stats["mp"]["cur"]) == (75, 20)
    await account_manager.set_combat_session(char_id, None)
    await account_manager.set_state(char_id, "EXPLORATION")
    assert (await account_manager.get_sessions(char_id))["combat_id"] is None
    assert await account_manager.get_state(char_id) == "EXPLORATION"


async def test_lobby_flow(am):
    account_manager, user_id = am, 123
    cached = await account_manager.get_lobby_cache(user_id)
    assert cached is None
    if cached is None:
        chars_data = [{"character_id": 42, "user_id": 123, "name": "Aragorn", "gender": "male",
                       "location_id": "52_52", "vitals_snapshot": {"hp": 100}, "created_at": "2025-01-20T10:30:00Z"}]
        await account_manager.set_lobby_cache(user_id, chars_data)
    assert await account_manager.get_lobby_cache(user_id) == chars_data
    assert 595 <= await am.redis.ttl("lobby_session:123") <= 600
    await account_manager.delete_lobby_cache(user_id)
    assert await account_manager.get_lobby_cache(user_id) is None


# ---- every method ---------------------------------------------------------------------------------

async def test_core_methods(am):
    assert await am.get_full_account(1) is None
    assert await am.account_exists(1) is False
    await am.create_account(1, {"bio": {"name": "Kept"}})
    assert await am.account_exists(1) is True
    doc = await am.get_full_account(1)
    assert doc["bio"]["name"] == "Kept" and doc["stats"]["hp"]["cur"] == 100 and doc["attributes"]["luck"] == 8
    stored = json.loads(await am.redis.execute_command("JSON.GET", "ac:1"))
    # What is read is what is stored, but last_update: the time the returned vitals are current at.
    assert stored["stats"]["last_update"] is None and abs(doc["stats"]["last_update"] - time.time()) < 1
    stored["stats"]["last_update"] = doc["stats"]["last_update"]
    assert stored == doc
    await am.delete_account(1)
    assert await am.account_exists(1) is False
    await am.delete_account(1)  # deleting a missing account is no error


async def test_getters_return_none_for_a_missing_account(am):
    for getter in [am.get_bio, am.get_stats, am.get_attributes, am.get_sessions, am.get_state, am.get_location,
                   am.get_metrics, am.get_full_account]:
        assert await getter(404) is None, getter.__name__
    assert await am.get_gear_score(404) == 0  # the original's documented default
    assert await am.get_account_field(404, "bio.name") is None


async def test_bio_stats_attributes_sessions_location(am):
    await am.create_account(1, initial_data())
    await am.update_bio_field(1, "name", "Legolas")
    assert (await am.get_bio(1))["name"] == "Legolas"
    await am.update_stat(1, "hp", {"cur": 150, "max": 200})
    await am.update_stat_current(1, "mp", 500)  # clamped at max
    stats = await am.get_stats(1)
    assert (stats["hp"]["cur"], stats["hp"]["max"], stats["mp"]["cur"]) == (150, 200, 50)
    await am.update_attributes(1, {"strength": 12, "luck": 3})
    attrs = await am.get_attributes(1)
    assert (attrs["strength"], attrs["luck"], attrs["agility"]) == (12, 3, 8)
    await am.set_inventory_session(1, "inv_456")
    assert (await am.get_sessions(1))["inventory_id"] == "inv_456"
    await am.set_location(1, "dark_forest")  # the original writes location.current only
    assert await am.get_location(1) == {"current": "dark_forest", "prev": None}
    assert await am.move(1, "castle") == "dark_forest"
    assert await am.get_location(1) == {"current": "castle", "prev": "dark_forest"}


async def test_later_operations(am):
    await am.create_account(1, initial_data())
    assert await am.get_account_field(1, "bio.name") is None
    assert await am.get_account_field(1, "$.location.current") == "start_village"
    await am.update_account_fields(1, {"bio.name": "Gimli", "bio.gender": "male", "metrics.gear_score": 40})
    assert (await am.get_bio(1))["name"] == "Gimli"
    assert await am.get_gear_score(1) == 40
    await am.set_gear_score(1, 55)
    assert await am.get_gear_score(1) == 55
    await am.update_metrics(1, {"arena_rating": 1200})
    assert await am.get_account_field(1, "metrics") == {"gear_score": 55, "arena_rating": 1200, "arena_wins": 0,
                                                        "arena_losses": 0, "win_streak": 0}
    assert await am.increment_metric(1, "arena_wins") == 1
    assert await am.increment_metric(1, "arena_wins", 4) == 5
    await am.transition_to_state(1, "exploration")
    await am.transition_to_state(1, "lobby")
    assert await am.get_account_field(1, "prev_state") == "exploration"


async def test_bulk_operations(am):
    for c in (1, 2, 3):
        await am.create_account(c, {})
    assert await am.bulk_link_combat_session([1, 2, 3], "c_9") is None
    batch = await am.get_accounts_json_batch([1, 2, 404])
    assert [batch[0]["sessions"]["combat_id"], batch[1]["sessions"]["combat_id"], batch[2]] == ["c_9", "c_9", None]
    assert await am.get_accounts_json_batch([2, 404, 1], "$.sessions.combat_id") == ["c_9", None, "c_9"]
    await am.delete_account(3)
    assert await am.bulk_unlink_combat_session([1, 2, 3]) is None
    assert (await am.get_sessions(2))["combat_id"] is None


async def test_module_additions(am):
    await am.create_account(1, {"stats": {"hp": {"cur": 80}}})
    assert await am.damage(1, 30) == (50, 30)
    assert await am.damage(1, 500) == (0, 50)
    assert await am.heal(1, 1000) == (100, 100)
    assert await am.spend(1, "mp", 20) == 30
    assert await am.apply(1, {"hp": -10, "stamina": 5}) == {"hp": (90, -10), "stamina": (100, 0)}
    stats = await am.regen(1)
    assert stats["hp"]["cur"] == 90 and stats["last_update"] is not None
    assert await am.transition_state(1, "combat", expected="onboarding") == "onboarding"
    assert await am.move(1, "castle") == "start_village"
    assert await am.transition_state(1, "scenario", fields={"sessions.scenario_id": "s1"}) == "combat"
    assert (await am.get_sessions(1))["scenario_id"] == "s1"
    assert await am.set_session(1, "combat", "c_1") is None
    assert await am.set_session(1, "combat", None) == "c_1"
    entry = await am.logout(1, "logouts")
    assert "-" in entry and await am.account_exists(1) is False
    fields = (await am.redis.xrange("logouts"))[0][1]
    assert fields["key"] == "ac:1" and json.loads(fields["doc"])["state"] == "scenario"


async def test_custom_keys_and_lobby_ttl(r):
    am = AccountManager(r, account_key="game:{char_id}:acc", lobby_key="game:lobby:{user_id}", lobby_ttl=30)
    await am.create_account(5, {})
    assert await r.exists("game:5:acc") == 1
    await am.set_lobby_cache(9, [])
    assert await r.ttl("game:lobby:9") == 30


async def test_bytes_responses(server):
    r = aioredis.Redis(port=server.port)  # decode_responses=False
    try:
        am = AccountManager(r)
        await am.create_account(1, {"bio": {"name": "Ä"}})
        assert (await am.get_bio(1))["name"] == "Ä"
        assert await am.transition_state(1, "x") == "onboarding"
    finally:
        await r.aclose()


# ---- errors -------------------------------------------------------------------------------------

async def test_error_mapping(am_strict):
    am = am_strict
    with pytest.raises(NoAccount, match="^NOACCOUNT no such account$"):
        await am.update_bio_field(404, "name", "x")
    await am.create_account(1, {})
    with pytest.raises(InvalidDocument, match="^SCHEMA bio.name must be"):
        await am.update_bio(1, {"name": 5})
    with pytest.raises(InvalidDocument, match="^SCHEMA stats.hp.cur must not exceed stats.hp.max"):
        await am.create_account(2, {"stats": {"hp": {"cur": 150}}})
    with pytest.raises(InvalidDocument, match="^LOBBY at most 4 characters"):
        await am.set_lobby_cache(1, [{"character_id": i, "user_id": 1} for i in range(5)])
    with pytest.raises(InsufficientResource, match="^INSUFFICIENT mp is 50, needs 60$"):
        await am.spend(1, "mp", 60)
    with pytest.raises(StateConflict, match="^STATECONFLICT state is 'onboarding', not 'combat'$"):
        await am.transition_state(1, "lobby", expected="combat")
    assert await am.get_account_field(1, "level") is None  # an absent field is None, never an error
    with pytest.raises(UnknownPath):
        await am.update_account_fields(1, {"bad path": 1})
    with pytest.raises(InvalidArgument, match="^BADNUMBER amount must be an integer from 1 to 9223372036854775807$"):
        await am.damage(1, -5)
    with pytest.raises(InvalidArgument, match="^SYNTAX stat must be hp, mp or stamina$"):
        await am.damage(1, 5, "xp")
    await am.set_gear_score(1, 2**63 - 1)
    with pytest.raises(MetricOverflow):
        await am.increment_metric(1, "gear_score")
    await am.redis.set("ac:9", "plain")
    with pytest.raises(WrongType):
        await am.get_bio(9)
    await am.redis.execute_command("JSON.SET", "ac:1", "$.stats.hp.cur", '"lots"')
    with pytest.raises(CorruptDocument, match="^CORRUPT stored document: stats.hp.cur"):
        await am.damage(1, 1)
    # A server without RedisJSON: one code for every account command, its own class.
    from redis.exceptions import ResponseError
    from redis_account.errors import JsonNotLoaded, translate
    e = translate(ResponseError("NOJSON RedisJSON is not loaded"))
    assert isinstance(e, JsonNotLoaded) and e.code == "NOJSON"
    # Every module error is still a redis-py ResponseError.
    with pytest.raises(ResponseError):
        await am.spend(1, "mp", 60)


# ---- Redis Cluster ---------------------------------------------------------------------------------

async def test_flows_over_a_cluster(rc):
    class Service:  # the original's RedisService shape: the client in .redis_client
        redis_client = rc
    am = AccountManager(Service(), raise_errors=True)
    ids = list(range(1, 31))  # spread over all three primaries
    slots = {rc.keyslot(am.key(i)) for i in ids}
    nodes = {rc.get_node_from_key(am.key(i)).port for i in ids}
    assert len(slots) == 30 and len(nodes) == 3
    for i in ids:
        await am.create_account(i, initial_data())
        await am.update_bio(i, {"name": f"n{i}", "gender": "other", "created_at": None})
        await am.set_state(i, "COMBAT")
        assert await am.damage(i, i) == (100 - i, i)
        await am.set_lobby_cache(i, [{"character_id": i, "user_id": i}])
    await am.bulk_link_combat_session(ids, "c_all")
    batch = await am.get_accounts_json_batch(ids + [999])
    assert len(batch) == 31 and batch[30] is None
    assert all(batch[i - 1]["sessions"]["combat_id"] == "c_all" and batch[i - 1]["state"] == "COMBAT" for i in ids)
    await am.bulk_unlink_combat_session(ids)
    assert await am.get_accounts_json_batch(ids, "sessions.combat_id") == [None] * 30
    assert await am.get_lobby_cache(7) == [{"character_id": 7, "user_id": 7}]


async def test_multi_key_commands_in_a_cluster(rc):
    # Keys sharing a hash tag work in one call; keys in different slots get Redis's CROSSSLOT.
    tagged = AccountManager(rc, account_key="{{party1}}ac:{char_id}")
    for i in (1, 2):
        await tagged.create_account(i, {})
    assert await rc.execute_command("ACCOUNT.LINK", "combat", "c1", "{party1}ac:1", "{party1}ac:2") == 2
    plain = AccountManager(rc)
    await plain.create_account(1, {})
    await plain.create_account(2, {})
    assert rc.keyslot("ac:1") != rc.keyslot("ac:2")
    node = rc.get_node_from_key("ac:1")
    with pytest.raises(ResponseError, match="don't hash to the same slot"):  # CROSSSLOT
        await rc.execute_command("ACCOUNT.LINK", "combat", "c1", "ac:1", "ac:2", target_nodes=node)
    # Logout with the account and its stream under one tag.
    assert "-" in await tagged.logout(1, "{party1}logouts")


def test_a_synchronous_client_is_refused_at_construction():
    import redis as sync_redis

    for client in (sync_redis.Redis(), type("Service", (), {"redis_client": sync_redis.Redis()})()):
        with pytest.raises(TypeError) as info:
            AccountManager(client)
        assert str(info.value) == (
            "AccountManager needs an asyncio client: got the synchronous redis.client.Redis; "
            "use redis.asyncio.Redis (or redis.asyncio.RedisCluster)"
        )
    AccountManager(aioredis.Redis())  # the asyncio client is taken
