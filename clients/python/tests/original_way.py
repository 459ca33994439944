"""How the original AccountManager talks to Redis, re-written for the tests and the flow
benchmark: plain RedisJSON calls through redis-py's ``json()`` (``JSON.GET key $.path`` answering
a one-element list, ``JSON.SET key $.path``), a read before each transition, and MULTI pipelines
for several fields. Only the wire behaviour is reproduced (which commands, in which order, what
they return); errors propagate instead of being logged.

Used to play the part of an old instance during a rolling deploy, and as the baseline of
``scripts/bench_flows.py``.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Mapping, Optional


class OriginalWay:
    def __init__(self, client: Any, account_key: str = "ac:{char_id}", lobby_key: str = "lobby_session:{user_id}") -> None:
        self.r = client
        self.account_key = account_key
        self.lobby_key = lobby_key

    def key(self, char_id: Any) -> str:
        return self.account_key.format(char_id=char_id)

    async def _one(self, char_id: Any, path: str) -> Any:
        res = await self.r.json().get(self.key(char_id), path)
        return res[0] if res else None

    async def _multi(self, char_id: Any, pairs: List[Any]) -> None:
        k = self.key(char_id)
        async with self.r.pipeline() as pipe:
            for path, value in pairs:
                pipe.json().set(k, path, value)
            await pipe.execute()

    # account
    async def create_account(self, char_id: Any, initial_data: Mapping[str, Any]) -> None:
        await self.r.json().set(self.key(char_id), "$", dict(initial_data))

    async def get_full_account(self, char_id: Any) -> Any:
        return await self.r.json().get(self.key(char_id), "$")  # the one-element list it answered

    async def get_account_field(self, char_id: Any, field_path: str) -> Any:
        if not field_path.startswith("$"):
            field_path = "$" + field_path if field_path.startswith(".") else "$." + field_path
        return await self._one(char_id, field_path)

    async def update_account_fields(self, char_id: Any, updates: Mapping[str, Any]) -> None:
        await self._multi(char_id, [(f"$.{f}", v) for f, v in updates.items()])

    async def update_bio(self, char_id: Any, bio: Mapping[str, Any]) -> None:
        await self.r.json().set(self.key(char_id), "$.bio", dict(bio))

    async def get_stats(self, char_id: Any) -> Any:
        return await self._one(char_id, "$.stats")

    async def update_stat_current(self, char_id: Any, stat: str, value: int) -> None:
        await self.r.json().set(self.key(char_id), f"$.stats.{stat}.cur", value)

    async def get_state(self, char_id: Any) -> Any:
        return await self._one(char_id, "$.state")

    async def set_state(self, char_id: Any, state: str) -> None:
        await self.r.json().set(self.key(char_id), "$.state", state)

    async def set_combat_session(self, char_id: Any, session_id: Optional[str]) -> None:
        await self.r.json().set(self.key(char_id), "$.sessions.combat_id", session_id)

    async def transition_to_state(self, char_id: Any, state: str) -> None:
        cur = await self.get_state(char_id)
        pairs: List[Any] = [("$.prev_state", cur)] if cur else []
        await self._multi(char_id, pairs + [("$.state", state)])

    async def enter_scenario(self, char_id: Any, session_id: str, quest_key: str) -> None:
        cur = await self.get_state(char_id)
        pairs: List[Any] = [("$.prev_state", cur)] if cur else []
        await self._multi(char_id, pairs + [("$.state", "SCENARIO"), ("$.sessions.scenario_id", session_id),
                                            ("$.active_quest", quest_key)])

    async def leave_scenario(self, char_id: Any) -> None:
        cur = await self.get_state(char_id)
        pairs: List[Any] = [("$.prev_state", cur)] if cur else []
        await self._multi(char_id, pairs + [("$.state", "EXPLORATION"), ("$.sessions.scenario_id", None),
                                            ("$.active_quest", None)])

    # lobby
    async def get_lobby_cache(self, user_id: Any) -> Optional[List[Dict[str, Any]]]:
        data = await self.r.get(self.lobby_key.format(user_id=user_id))
        return json.loads(data) if data else None

    async def set_lobby_cache(self, user_id: Any, chars: List[Dict[str, Any]]) -> None:
        await self.r.set(self.lobby_key.format(user_id=user_id), json.dumps(chars), ex=600)

    async def delete_lobby_cache(self, user_id: Any) -> None:
        await self.r.delete(self.lobby_key.format(user_id=user_id))


def menu_regen(stats: Dict[str, Any], now: Optional[float] = None) -> bool:
    """The original menu's lazy regeneration, applied in place to a stats dict read from Redis:
    each vital gains ``int(cur + regen * (now - last_update))``, capped at max and floored at 0,
    skipped while full; ``last_update`` moves to now only when something changed (or was None).
    Returns whether it changed anything (the menu then writes ``stats`` back)."""
    now = time.time() if now is None else now
    last = stats.get("last_update")
    if last is None:
        stats["last_update"] = now
        return True
    dt = now - last
    if dt <= 0:
        return False
    changed = False
    for name in ("hp", "mp", "stamina"):
        v = stats[name]
        rate = v.get("regen", 0.0)
        if v["cur"] >= v["max"] and rate > 0:
            continue
        new = max(0, min(v["max"], int(v["cur"] + rate * dt)))
        if new != v["cur"]:
            v["cur"] = new
            changed = True
    if changed:
        stats["last_update"] = now
    return changed
