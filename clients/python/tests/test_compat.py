"""The compatibility suite: the client called exactly as the original game's services call its
AccountManager (CodexDLC/telegram_bot_rpg at HEAD: the account session service, the game menu,
combat session linking, the player assembler, the arena, the scenario session service and its
tutorial handler, exploration), with the returns those call sites rely on and the stored
documents read back with JSON.GET. Written from reading that code; none of it is copied.

Also: the constructor as the original's container calls it (with its RedisService), the
original's method signatures, the default error behaviour those call sites expect, and a rolling
deploy where an old instance (tests/original_way.py) still writes."""
from __future__ import annotations

import asyncio
import enum
import inspect
import json
import logging
import time
from typing import Any

import pytest

from redis_account import AccountManager, NoAccount
from redis_account.commands import ORIGINAL_METHODS

from original_way import OriginalWay, menu_regen

ATTRS = ["strength", "agility", "endurance", "intelligence", "wisdom", "men", "perception", "charisma", "luck"]


class Domain(str, enum.Enum):
    """Stands in for the original's state enum (a str enum with lower-case values)."""

    EXPLORATION = "exploration"
    ONBOARDING = "onboarding"
    LOBBY = "lobby"
    COMBAT = "combats"

    def __str__(self) -> str:
        return str(self.value)


class RedisService:
    """Stands in for the original's RedisService: a wrapper that keeps the client in ``redis_client``
    and has no ``execute_command`` of its own."""

    def __init__(self, client: Any) -> None:
        self.redis_client = client


def session_context(char_id: int, state: Any = Domain.ONBOARDING, hp: int = 100, mp: int = 50) -> dict:
    """The dict the account session service stores on login: its context DTO dumped (state enum,
    bio, location from the character row, stats with last_update = now, attributes 8, metrics
    with gear_score only, empty skills)."""
    return {
        "state": state,
        "prev_state": None,
        "bio": {"name": f"Hero{char_id}", "gender": "male", "created_at": "2025-01-20T10:30:00"},
        "location": {"current": "52_52", "prev": None},
        "stats": {
            "hp": {"cur": hp, "max": 100, "regen": 1.0},
            "mp": {"cur": mp, "max": 50, "regen": 1.0},
            "stamina": {"cur": 100, "max": 100, "regen": 5.0},
            "last_update": time.time(),
        },
        "attributes": {a: 8 for a in ATTRS},
        "sessions": {"combat_id": None, "inventory_id": None, "scenario_id": None},
        "metrics": {"gear_score": 0},
        "skills": {},
    }


async def stored(am: AccountManager, char_id: int) -> Any:
    raw = await am.redis.execute_command("JSON.GET", am.key(char_id))
    return None if raw is None else json.loads(raw)


# ---- construction and signatures -------------------------------------------------------------------

async def test_built_as_the_container_builds_it(r):
    # The container wraps the client in its RedisService; the menu dependency passes the client.
    for am in (AccountManager(RedisService(r)), AccountManager(r)):
        await am.create_account(1, session_context(1))
        assert (await am.get_full_account(1))["bio"]["name"] == "Hero1"
        assert am.redis is r
    with pytest.raises(TypeError, match="redis_client"):
        AccountManager(object())


# Parameter names, order and defaults of the original's public methods (as its source declares them).
ORIGINAL_SIGNATURES = {
    "create_account": "char_id initial_data", "account_exists": "char_id", "get_full_account": "char_id",
    "delete_account": "char_id", "get_account_field": "char_id field_path",
    "update_account_fields": "char_id updates", "get_bio": "char_id", "update_bio": "char_id bio_data",
    "update_bio_field": "char_id field value", "get_stats": "char_id", "update_stat": "char_id stat_name value",
    "update_stat_current": "char_id stat_name value", "get_attributes": "char_id",
    "update_attributes": "char_id attributes", "get_sessions": "char_id",
    "set_combat_session": "char_id session_id", "set_inventory_session": "char_id session_id",
    "enter_scenario": "char_id session_id quest_key", "leave_scenario": "char_id", "get_state": "char_id",
    "set_state": "char_id state", "transition_to_state": "char_id state", "get_location": "char_id",
    "set_location": "char_id location_id", "get_metrics": "char_id", "get_gear_score": "char_id",
    "set_gear_score": "char_id value", "update_metrics": "char_id updates",
    "increment_metric": "char_id metric delta=1", "get_lobby_cache": "user_id",
    "set_lobby_cache": "user_id characters_data", "delete_lobby_cache": "user_id",
    "bulk_link_combat_session": "char_ids session_id", "bulk_unlink_combat_session": "char_ids",
    "get_accounts_json_batch": "char_ids path=$",
}


def test_every_original_method_with_its_signature():
    assert sorted(ORIGINAL_SIGNATURES) == sorted(ORIGINAL_METHODS)
    assert list(inspect.signature(AccountManager.__init__).parameters)[1] == "redis_service"
    for name, want in ORIGINAL_SIGNATURES.items():
        method = getattr(AccountManager, name)
        assert inspect.iscoroutinefunction(method), name
        got = []
        for p in list(inspect.signature(method).parameters.values())[1:]:
            if p.kind is inspect.Parameter.KEYWORD_ONLY:
                # What the module adds is keyword-only, so every original call still binds.
                assert p.name == "request_id" and p.default is None, (name, p)
                continue
            got.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default}")
        assert " ".join(got) == want, name


# ---- the account session service -------------------------------------------------------------------

async def test_account_session_service(am):
    ctx = session_context(42)
    await am.create_account(42, ctx)
    doc = await stored(am, 42)
    assert doc["state"] == "onboarding" and doc["bio"] == ctx["bio"] and doc["location"] == ctx["location"]
    assert doc["stats"]["hp"]["cur"] == 100 and abs(doc["stats"]["last_update"] - ctx["stats"]["last_update"]) < 1e-5
    assert doc["metrics"]["gear_score"] == 0 and doc["skills"] == {} and doc["attributes"] == ctx["attributes"]

    # get_session: a dict (the original's annotation), falsy when the session expired.
    data = await am.get_full_account(42)
    assert isinstance(data, dict) and data["bio"]["name"] == "Hero42"
    assert not await am.get_full_account(404)

    await am.update_bio(42, {"name": "Aragorn", "gender": "male", "created_at": None})
    await am.set_state(42, Domain.EXPLORATION)  # an enum member, as the service passes it
    assert await am.get_state(42) == "exploration"
    assert await am.get_state(404) is None  # the service turns this into SessionExpiredError

    # update_stats: last_update added by the service when missing, written with update_account_fields.
    stats = {"hp": {"cur": 70, "max": 100, "regen": 1.0}, "mp": {"cur": 50, "max": 50, "regen": 1.0},
             "stamina": {"cur": 100, "max": 100, "regen": 5.0}}
    stats["last_update"] = time.time()
    await am.update_account_fields(42, {"stats": stats})
    doc = await stored(am, 42)
    assert doc["bio"]["name"] == "Aragorn" and doc["state"] == "exploration" and doc["prev_state"] is None
    # (RedisJSON prints doubles with 16 significant digits: the stored time is within a microsecond.)
    assert doc["stats"]["hp"]["cur"] == 70 and abs(doc["stats"]["last_update"] - stats["last_update"]) < 1e-5


async def test_lobby_cache_aside(am):
    chars = [{"character_id": 42, "user_id": 7, "name": "Aragorn", "gender": "male", "game_stage": "in_game",
              "prev_game_stage": None, "location_id": "52_52", "prev_location_id": None,
              "vitals_snapshot": None, "active_sessions": None,
              "created_at": "2025-01-20T10:30:00", "updated_at": "2025-01-20T10:30:00"}]
    assert await am.get_lobby_cache(7) is None  # miss: the service loads from SQL and fills it
    await am.set_lobby_cache(7, chars)
    assert await am.get_lobby_cache(7) == chars
    # The key and TTL the original uses at HEAD, readable with a plain GET.
    assert json.loads(await am.redis.get("lobby_session:7")) == chars
    assert 595 <= await am.redis.ttl("lobby_session:7") <= 600
    await am.delete_lobby_cache(7)  # a character was created or deleted
    assert await am.get_lobby_cache(7) is None
    assert await am.set_lobby_cache(8, []) is None and await am.get_lobby_cache(8) == []


# ---- the game menu: regeneration counted once ---------------------------------------------------------

async def hud(am: AccountManager, char_id: int) -> int:
    """The menu service: read the whole account, regenerate, write stats back when changed, show hp."""
    raw = await am.get_full_account(char_id)
    stats = raw["stats"]
    if menu_regen(stats):
        await am.update_account_fields(char_id, {"stats": stats})
    return stats["hp"]["cur"]


async def test_menu_hud_shows_what_the_original_shows(am):
    ctx = session_context(5, hp=60)
    ctx["stats"]["hp"]["regen"] = 10.0
    await am.create_account(5, ctx)
    await asyncio.sleep(0.35)  # 3.5 units of hp at 10/s
    # What the original would show: its formula on the document as stored.
    now = time.time()
    original = json.loads(await am.redis.execute_command("JSON.GET", "ac:5", "$.stats"))[0]
    menu_regen(original, now)
    shown = await hud(am, 5)
    assert shown == original["hp"]["cur"] == 63  # not 66: regeneration counted once
    # A second visit shortly after adds nothing twice either.
    await asyncio.sleep(0.05)
    assert await hud(am, 5) in (63, 64)
    assert (await stored(am, 5))["stats"]["hp"]["cur"] in (60, 63, 64)


async def test_reads_report_when_their_vitals_are_current(am):
    await am.create_account(5, session_context(5, hp=60))
    before = time.time()
    for stats in [await am.get_stats(5), (await am.get_full_account(5))["stats"],
                  await am.get_account_field(5, "stats"), (await am.get_account_field(5, "$"))["stats"],
                  (await am.get_accounts_json_batch([5]))[0]["stats"], (await am.get_accounts_json_batch([5], "$.stats"))[0]]:
        assert before <= stats["last_update"] <= time.time()
        assert menu_regen(stats) is False  # nothing left to add
    assert before <= await am.get_account_field(5, "stats.last_update") <= time.time()


# ---- combat session linking --------------------------------------------------------------------------

async def test_combat_session_linking(am):
    for c in (1, 2, 3):
        await am.create_account(c, session_context(c))
    assert await am.bulk_link_combat_session([1, 2, 3], "c_77") is None
    sessions = await am.get_sessions(2)  # _resolve_session_id
    assert sessions and sessions.get("combat_id") == "c_77"
    assert all([(await stored(am, c))["sessions"]["combat_id"] == "c_77" for c in (1, 2, 3)])
    # One participant already logged out: the others are linked, as the original's MULTI did.
    await am.delete_account(3)
    await am.bulk_link_combat_session([1, 2, 3], "c_78")
    assert [(await stored(am, c))["sessions"]["combat_id"] for c in (1, 2)] == ["c_78", "c_78"]
    assert await stored(am, 3) is None
    # End of combat: unlink everyone, the gone one included.
    assert await am.bulk_unlink_combat_session([1, 2, 3]) is None
    assert [(await stored(am, c))["sessions"]["combat_id"] for c in (1, 2)] == [None, None]
    await am.bulk_link_combat_session([], "c_0")
    await am.bulk_unlink_combat_session([])


# ---- the player assembler's batch read -----------------------------------------------------------------

async def test_player_assembler_batch(am):
    await am.create_account(10, session_context(10, hp=40))
    await am.create_account(12, session_context(12))
    ids = [10, 11, 12]
    vitals_list = await am.get_accounts_json_batch(ids, "vitals")  # as the assembler calls it
    vitals_map = dict(zip(ids, vitals_list))
    assert vitals_map == {10: None, 11: None, 12: None}  # the document has no 'vitals'
    docs = await am.get_accounts_json_batch(ids)
    assert [d and d["bio"]["name"] for d in docs] == ["Hero10", None, "Hero12"]
    assert [s and s["hp"]["cur"] for s in await am.get_accounts_json_batch(ids, "$.stats")] == [40, None, 100]
    assert await am.get_accounts_json_batch(ids, "stats.hp.cur") == [40, None, 100]
    assert await am.get_accounts_json_batch([]) == []


# ---- the arena's gear score ----------------------------------------------------------------------------

async def test_arena_gear_score(am):
    default_gs = 100
    gs = await am.get_gear_score(9)
    assert gs == 0 and (gs if gs is not None else default_gs) == 0  # missing account: 0, as the original
    await am.create_account(9, session_context(9))
    assert await am.get_gear_score(9) == 0
    await am.set_gear_score(9, 150)
    assert await am.get_gear_score(9) == 150
    assert (await stored(am, 9))["metrics"]["gear_score"] == 150


# ---- the scenario session service ------------------------------------------------------------------------

async def test_scenario_enter_and_leave(am):
    await am.create_account(3, session_context(3, state=Domain.EXPLORATION))
    assert await am.get_account_field(3, "scenario_session_id") is None  # get_session_id
    assert await am.enter_scenario(3, "sess-1", "awakening_rift") is None  # positional, as called
    doc = await stored(am, 3)
    assert (doc["state"], doc["prev_state"], doc["sessions"]["scenario_id"], doc["active_quest"]) == \
        ("SCENARIO", "exploration", "sess-1", "awakening_rift")
    assert await am.get_account_field(3, "active_quest") == "awakening_rift"
    await am.leave_scenario(3)
    doc = await stored(am, 3)
    assert (doc["state"], doc["prev_state"], doc["sessions"]["scenario_id"], doc["active_quest"]) == \
        ("EXPLORATION", "SCENARIO", None, None)
    await am.transition_to_state(3, "combats")
    await am.set_location(3, "dark_forest")
    doc = await stored(am, 3)
    assert (doc["state"], doc["prev_state"], doc["location"]["current"]) == ("combats", "EXPLORATION", "dark_forest")


async def test_scenario_enter_is_all_or_nothing(am):
    await am.create_account(3, session_context(3, state=Domain.EXPLORATION))
    before = await stored(am, 3)
    await am.enter_scenario(3, "x" * 5000, "q")  # a session id the schema refuses (strings <= 1024 bytes)
    assert await stored(am, 3) == before  # neither the state nor anything else changed
    await am.enter_scenario(404, "s", "q")  # missing account: logged, nothing created
    assert await stored(am, 404) is None


async def test_tutorial_handler(am):
    await am.create_account(4, session_context(4, state="SCENARIO"))
    assert await am.get_account_field(4, "symbiote") is None  # on_initialize
    # on_finalize: rewards (attribute bonuses under "stats", element tokens), then the exit fields.
    final_stats = {a: 9 - i for i, a in enumerate(ATTRS)}
    tokens = {f"t_{e}": 0 for e in ["fire", "water", "earth", "air", "dark", "arcane", "light", "nature"]}
    before = await stored(am, 4)
    await am.update_account_fields(4, {"stats": final_stats, "tokens": tokens})
    # Replacing the vitals with attribute bonuses would break every vitals reader: refused
    # (logged), all or nothing, so the tokens are not written either.
    assert await stored(am, 4) == before
    await am.update_account_fields(4, {"prev_state": Domain.EXPLORATION, "location_id": "12_7", "prev_location_id": "12_7"})
    doc = await stored(am, 4)
    assert (doc["state"], doc["prev_state"], doc["location_id"], doc["prev_location_id"]) == \
        ("SCENARIO", "exploration", "12_7", "12_7")
    await am.update_account_fields(4, {"state": Domain.EXPLORATION, "prev_state": Domain.EXPLORATION,
                                       "location_id": "3_3", "prev_location_id": "3_3"})
    assert (await am.get_full_account(4))["state"] == "exploration"


# ---- exploration ------------------------------------------------------------------------------------------

async def test_exploration_location_update(am):
    await am.create_account(6, session_context(6, state=Domain.EXPLORATION))
    location = await am.get_location(6)
    assert location and location.get("current") == "52_52"
    assert location.get("previous") is None
    await am.update_account_fields(6, {"location": {"current": "53_52", "previous": "52_52"}})
    location = await am.get_location(6)
    assert location["current"] == "53_52" and location.get("previous") == "52_52"
    assert (await stored(am, 6))["location"]["previous"] == "52_52"
    assert await am.get_account_field(6, "$.skills.survival") is None
    await am.update_account_fields(6, {"skills": {"survival": 0.4561}})
    assert await am.get_account_field(6, "$.skills.survival") == 0.4561


# ---- other writes of the original's code --------------------------------------------------------------------

async def test_field_writes_outside_the_dto(am):
    await am.create_account(8, session_context(8))
    await am.update_bio_field(8, "title", "the Brave")
    await am.update_metrics(8, {"kills": 3, "arena_rating": 1200.7})
    assert await am.increment_metric(8, "kills") == 4
    assert await am.increment_metric(8, "arena_wins", 2) == 2
    doc = await stored(am, 8)
    assert doc["bio"]["title"] == "the Brave"
    assert (doc["metrics"]["kills"], doc["metrics"]["arena_rating"], doc["metrics"]["arena_wins"]) == (4, 1200.7, 2)
    assert await am.increment_metric(8, "arena_rating", 5) == 1205.7  # a float metric, as the original allowed
    assert (await am.get_metrics(8))["kills"] == 4
    # Path spellings the original accepted.
    for p in ("bio.title", ".bio.title", "$.bio.title"):
        assert await am.get_account_field(8, p) == "the Brave"
    assert (await am.get_account_field(8, "$"))["bio"]["title"] == "the Brave"
    assert await am.get_account_field(8, "$.attributes.luck") == 8


async def test_update_stat_partial_and_regen(am):
    await am.create_account(2, session_context(2))
    await am.update_stat(2, "hp", {"cur": 40})  # the fields given; max and regen kept
    await am.update_stat(2, "mp", {"cur": 30, "max": 60, "regen": 2.5})
    s = (await stored(am, 2))["stats"]
    assert (s["hp"]["cur"], s["hp"]["max"], s["hp"]["regen"]) == (40, 100, 1.0)
    assert (s["mp"]["cur"], s["mp"]["max"], s["mp"]["regen"]) == (30, 60, 2.5)
    await am.update_stat_current(2, "stamina", 35)
    assert (await stored(am, 2))["stats"]["stamina"]["cur"] == 35
    await am.update_stat_current(2, "stamina", 500)  # clamped at max: an intentional difference
    assert (await stored(am, 2))["stats"]["stamina"]["cur"] == 100


# ---- errors as the call sites expect them ------------------------------------------------------------------

async def test_missing_account_is_logged_not_raised(am, caplog):
    caplog.set_level(logging.WARNING, logger="redis_account")
    for call in [am.update_bio(404, {"name": "x"}), am.update_bio_field(404, "name", "x"),
                 am.update_stat(404, "hp", {"cur": 1}), am.update_stat_current(404, "hp", 1),
                 am.set_state(404, "x"), am.transition_to_state(404, "x"), am.set_location(404, "l"),
                 am.set_combat_session(404, "c"), am.update_account_fields(404, {"state": "x"}),
                 am.enter_scenario(404, "s", "q"), am.leave_scenario(404), am.set_gear_score(404, 1),
                 am.update_metrics(404, {"kills": 1}), am.update_attributes(404, {"luck": 1})]:
        assert await call is None
    assert await am.increment_metric(404, "kills", 5) == 5  # what the original computed and returned
    assert await am.get_gear_score(404) == 0
    assert await am.account_exists(404) is False
    assert await am.redis.exists("ac:404") == 0
    assert sum("NOACCOUNT" in r.getMessage() for r in caplog.records) == 15


async def test_raise_errors_gives_typed_exceptions(r):
    am = AccountManager(r, raise_errors=True)
    with pytest.raises(NoAccount):
        await am.enter_scenario(404, "s", "q")
    with pytest.raises(NoAccount):
        await am.bulk_link_combat_session([404], "c")
    assert await am.get_bio(404) is None  # reads of a missing account are None in both modes
    assert await am.get_account_field(404, "symbiote") is None


# ---- a rolling deploy: old instances still write -------------------------------------------------------------

async def test_rolling_deploy(am):
    old = OriginalWay(am.redis)
    # An old instance creates the session and plays with it the original way.
    await old.create_account(20, json.loads(json.dumps(session_context(20, hp=80))))
    await old.update_stat_current(20, "hp", 75)
    await old.enter_scenario(20, "s-9", "q-1")
    await old.update_account_fields(20, {"location": {"current": "1_1", "previous": "52_52"}})
    await old.set_lobby_cache(20, [{"character_id": 20, "user_id": 20, "name": "Hero20"}])
    # A new instance reads and writes the same keys.
    doc = await am.get_full_account(20)
    assert (doc["state"], doc["active_quest"], doc["stats"]["hp"]["cur"]) == ("SCENARIO", "q-1", 75)
    assert await am.get_lobby_cache(20) == [{"character_id": 20, "user_id": 20, "name": "Hero20"}]
    assert await am.damage(20, 5) == (70, 5)
    await am.leave_scenario(20)
    # And the old instance reads what the new one wrote.
    [back] = await old.get_full_account(20)
    assert (back["state"], back["prev_state"], back["active_quest"], back["stats"]["hp"]["cur"]) == \
        ("EXPLORATION", "SCENARIO", None, 70)
    assert back["location"] == {"current": "1_1", "previous": "52_52", "prev": None} or back["location"]["previous"] == "52_52"
    await am.delete_lobby_cache(20)
    assert await old.get_lobby_cache(20) is None


async def test_rolling_deploy_old_menu_write_then_new_menu(am):
    # An old instance's menu wrote stats back (without the module's per-vital clocks) 3.5 s ago;
    # a new instance's menu shows what the original shows: regenerated once, from last_update.
    old = OriginalWay(am.redis)
    await am.create_account(21, session_context(21))
    stats = session_context(21, hp=60)["stats"]
    stats["last_update"] = time.time() - 3.5
    await old.update_account_fields(21, {"stats": stats})
    expected = json.loads(json.dumps(stats))
    menu_regen(expected)
    assert expected["hp"]["cur"] == 63
    assert await hud(am, 21) == 63
    assert await hud(am, 21) == 63  # and again: nothing counted twice
    [back] = await old.get_full_account(21)
    assert back["stats"]["hp"]["cur"] in (60, 63)  # stored as written, or written back at 63


async def test_foreign_and_broken_values_read_as_absent(am, caplog):
    caplog.set_level(logging.WARNING, logger="redis_account")
    await am.redis.set("ac:9", "not an account")
    assert await am.get_full_account(9) is None and await am.get_state(9) is None  # logged WRONGTYPE
    await am.delete_account(9)  # refused: never deletes a key of another type
    assert await am.redis.get("ac:9") == "not an account"
    await am.redis.set("lobby_session:3", "{broken")  # the original read a non-JSON cache as a miss
    assert await am.get_lobby_cache(3) is None
    assert any("WRONGTYPE" in r.getMessage() for r in caplog.records)


async def test_rolling_deploy_raw_vitals_from_old_instances(am):
    old = OriginalWay(am.redis)
    await old.create_account(22, json.loads(json.dumps(session_context(22))))
    await old.update_stat_current(22, "hp", 150)  # the original stores it raw, above max
    assert (await am.get_stats(22))["hp"]["cur"] == 100  # served clamped at max
    assert await am.damage(22, 5) == (95, 5)  # and changed from there
    await am.redis.json().set("ac:22", "$.stats.mp", {"cur": 40})  # the original's update_stat of a partial vital
    mp = (await am.get_stats(22))["mp"]
    assert (mp["cur"], mp["max"], mp["regen"]) == (40, 50, 1.0)  # the missing fields read as their defaults
