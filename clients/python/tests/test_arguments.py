"""The client sends what it is given or refuses it: an amount, a delta or an id that is not an
``int`` (a float, a bool, a numeric string) raises ``TypeError`` before anything is sent, in both
error modes and in a pipeline; the document is unchanged and the server saw no such command
(INFO commandstats). The server's own refusals keep their codes."""
from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from redis_account import AccountManager, InvalidArgument

DOC = {"stats": {"hp": {"cur": 100, "max": 100}, "mp": {"cur": 50, "max": 50}, "stamina": {"cur": 100, "max": 100}},
       "metrics": {"kills": 3}}

# (method, args): each holds one value that is not an int where the original's signature says int.
BAD_CALLS = [
    ("damage", (1, 2.5)), ("damage", (1, True)), ("damage", (1, "10")), ("damage", (1, None)),
    ("damage", (1, False, "mp")),
    ("heal", (1, 2.0)), ("heal", (1, True)), ("heal", (1, "5")),
    ("spend", (1, "mp", 1.5)), ("spend", (1, "mp", True)), ("spend", (1, "mp", "3")),
    ("apply", (1, {"hp": -1.5})), ("apply", (1, {"hp": -5, "mp": True})), ("apply", (1, {"hp": "-5"})),
    ("increment_metric", (1, "kills", 1.0)), ("increment_metric", (1, "kills", True)),
    ("increment_metric", (1, "kills", "2")),
    ("update_stat_current", (1, "hp", 50.5)), ("update_stat_current", (1, "hp", True)),
    # ids: an int or a str, never a bool or a float turned into one
    ("damage", (True, 5)), ("damage", (1.0, 5)), ("damage", (None, 5)), ("get_stats", (1.5,)),
    ("bulk_link_combat_session", ([1, 2.0], "c1")), ("get_accounts_json_batch", ([1, True], "stats")),
    ("get_lobby_cache", (1.0,)), ("set_lobby_cache", (False, [])),
]


async def account_calls(r) -> dict[str, int]:
    """calls per command of the module (and JSON.*) since the last CONFIG RESETSTAT."""
    stats = await r.info("commandstats")
    return {k: v["calls"] for k, v in stats.items() if k.startswith(("cmdstat_account", "cmdstat_json", "cmdstat_lobby"))}


@pytest.mark.parametrize("strict", [False, True], ids=["default", "raise_errors"])
async def test_a_value_that_is_not_an_int_is_refused_before_anything_is_sent(r, strict):
    am = AccountManager(r, raise_errors=strict)
    await r.execute_command("ACCOUNT.CREATE", "ac:1", __import__("json").dumps(DOC))
    before = await r.execute_command("JSON.GET", "ac:1")
    await r.config_resetstat()
    for name, args in BAD_CALLS:
        with pytest.raises(TypeError, match=r"must be an int"):
            await getattr(am, name)(*args)
        pipe = am.pipeline()
        with pytest.raises(TypeError, match=r"must be an int"):
            getattr(pipe, name)(*args)
        assert await pipe.execute() == []  # nothing was queued
    assert await account_calls(r) == {}, "a refused call reached the server"
    assert await r.execute_command("JSON.GET", "ac:1") == before
    # The counter sees a call that is sent (so the empty count above means something), and
    # integral types other than int go as the integer they are.
    assert await am.damage(1, 30) == (70, 30)
    assert await am.damage("1", 5) == (65, 5)  # a str id is a key suffix as given
    assert (await account_calls(r)).get("cmdstat_account.damage") == 2


async def test_the_servers_own_refusals_keep_their_codes(r):
    """An int the server refuses (negative, too large) is sent and refused by the server."""
    await r.execute_command("ACCOUNT.CREATE", "ac:1", __import__("json").dumps(DOC))
    strict = AccountManager(r, raise_errors=True)
    with pytest.raises(InvalidArgument) as e:
        await strict.damage(1, -1)
    assert str(e.value).startswith("BADNUMBER ")
    with pytest.raises(InvalidArgument):
        await strict.damage(1, 2**70)
    # The default mode logs and returns the original's value: None for damage.
    assert await AccountManager(r).damage(1, -1) is None
    with pytest.raises(ResponseError):
        await r.execute_command("ACCOUNT.DAMAGE", "ac:1", "2.5")


def test_lobby_ttl_must_be_an_int():
    import redis.asyncio as aioredis
    client = aioredis.Redis()
    for bad in (2.5, True, "600"):
        with pytest.raises(TypeError, match="lobby_ttl must be an int"):
            AccountManager(client, lobby_ttl=bad)
    AccountManager(client, lobby_ttl=None)
