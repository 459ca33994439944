"""A small game session against `make run` (127.0.0.1:6379, or REDIS_PORT):
    .deps/venv/bin/python clients/python/examples/example.py   (from the repository root,
    with PYTHONPATH=clients/python/src, or after `pip install ./clients/python`)."""
import asyncio
import os

import redis.asyncio as redis

from redis_account import AccountManager, InsufficientResource, StateConflict


async def main() -> None:
    r = redis.Redis(host="127.0.0.1", port=int(os.environ.get("REDIS_PORT", "6379")), decode_responses=True)
    am = AccountManager(r)  # as the original's call sites expect: errors logged, never raised
    await am.delete_account(42)
    await am.create_account(42, {"state": "exploration", "bio": {"name": "Aragorn", "gender": "male"}})
    await am.enter_scenario(42, "sess-1", "awakening_rift")           # one atomic command
    print("scenario:", await am.get_state(42), await am.get_account_field(42, "active_quest"))
    await am.leave_scenario(42)
    print("hit:", await am.damage(42, 30))                            # (70, 30)
    stats = await am.get_stats(42)
    print("hp:", stats and stats["hp"]["cur"], "current at", stats and stats["last_update"])

    strict = AccountManager(r, raise_errors=True)  # typed exceptions for new code
    try:
        await strict.spend(42, "mp", 500)
    except InsufficientResource as e:
        print("no mana:", e)                                          # INSUFFICIENT mp is 50, needs 500
    try:
        await strict.transition_state(42, "lobby", expected="combat")
    except StateConflict as e:
        print("refused:", e)

    async with am.pipeline() as p:                                    # MULTI/EXEC
        p.increment_metric(42, "arena_wins").get_gear_score(42).get_bio(42)
        print("pipeline:", await p.execute())
    await am.set_lobby_cache(7, [{"character_id": 42, "user_id": 7, "name": "Aragorn"}])
    print("lobby:", await am.get_lobby_cache(7))
    print("logged out, stream entry", await am.logout(42, "logouts"))
    await r.aclose()


if __name__ == "__main__":
    asyncio.run(main())
