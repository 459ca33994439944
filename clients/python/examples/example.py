"""A small game session against `make run` (127.0.0.1:6379):
    .deps/venv/bin/python clients/python/examples/example.py   (from the repository root,
    with PYTHONPATH=clients/python/src, or after `pip install ./clients/python`)."""
import asyncio

import redis.asyncio as redis

from redis_account import AccountManager, InsufficientResource, StateConflict


async def main() -> None:
    r = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    am = AccountManager(r)
    await am.delete_account(42)
    await am.create_account(42, {"bio": {"name": "Aragorn", "gender": "male"}})
    await am.transition_state(42, "combat", expected="onboarding")
    await am.set_combat_session(42, "c_123")
    print("hit:", await am.damage(42, 30))            # (70, 30)
    print("heal:", await am.heal(42, 10))             # (80, 10)
    try:
        await am.spend(42, "mp", 500)
    except InsufficientResource as e:
        print("no mana:", e)                          # INSUFFICIENT mp is 50, needs 500
    try:
        await am.transition_state(42, "lobby", expected="exploration")
    except StateConflict as e:
        print("refused:", e)
    print("stats:", await am.get_stats(42))
    print("wins:", await am.increment_metric(42, "arena_wins"))
    await am.set_lobby_cache(7, [{"character_id": 42, "user_id": 7, "name": "Aragorn"}])
    print("lobby:", await am.get_lobby_cache(7))
    print("logged out, stream entry", await am.logout(42, "logouts"))
    await r.aclose()


if __name__ == "__main__":
    asyncio.run(main())
