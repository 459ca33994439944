"""A drop-in async AccountManager on the redis-account module.

Same method names, parameters and return values as the original (async redis-py + RedisJSON)
AccountManager, each a single server-side command: validated, atomic, no read-modify-write in the
client. Works with ``redis.asyncio.Redis`` and ``redis.asyncio.RedisCluster``.

Differences from the original, on purpose:
- Getters return None for a missing key, as before. Writes to a missing account raise
  ``NoAccount`` instead of failing silently; invalid data raises ``InvalidDocument`` (and the
  other classes of ``redis_account.errors``) instead of being logged and swallowed.
- ``update_stat_current`` clamps into ``[0, max]``; for combat use ``damage`` / ``heal`` /
  ``spend``, which cannot lose updates.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from redis.exceptions import ResponseError

from .errors import translate

Key = Union[int, str]


def _text(v: Any) -> Any:
    return v.decode() if isinstance(v, (bytes, bytearray)) else v


def _json(v: Any) -> Any:
    v = _text(v)
    return None if v is None else json.loads(v)


class AccountManager:
    """Character sessions (``ac:{char_id}``) and lobby caches (``lobby:user:{user_id}``).

    ``account_key`` and ``lobby_key`` are format strings with ``{char_id}`` / ``{user_id}``.
    Under Redis Cluster a literal hash tag keeps a group of characters in one slot, so bulk calls
    are one command: ``"{{party1}}ac:{char_id}"`` (braces doubled in a format string). Without
    one, the bulk methods send one command per slot.
    """

    def __init__(
        self,
        redis_client: Any,
        *,
        account_key: str = "ac:{char_id}",
        lobby_key: str = "lobby:user:{user_id}",
        lobby_ttl: Optional[int] = None,
    ) -> None:
        self.redis = redis_client
        self.account_key = account_key
        self.lobby_key = lobby_key
        self.lobby_ttl = lobby_ttl

    # ---- plumbing -------------------------------------------------------------------------
    def key(self, char_id: Key) -> str:
        return self.account_key.format(char_id=char_id)

    def lobby(self, user_id: Key) -> str:
        return self.lobby_key.format(user_id=user_id)

    async def _call(self, *args: Any) -> Any:
        try:
            return await self.redis.execute_command(*args)
        except ResponseError as e:
            raise translate(e) from None

    async def _get(self, char_id: Key, path: Optional[str] = None) -> Any:
        args = ("ACCOUNT.GET", self.key(char_id)) + ((path,) if path else ())
        return _json(await self._call(*args))

    def _is_cluster(self) -> bool:
        return hasattr(self.redis, "get_nodes") and hasattr(self.redis, "keyslot")

    def _by_slot(self, keys: Sequence[str]) -> list[list[str]]:
        """Keys grouped by cluster slot (one group outside a cluster), order kept."""
        if not self._is_cluster():
            return [list(keys)] if keys else []
        groups: dict[int, list[str]] = {}
        for k in keys:
            groups.setdefault(self.redis.keyslot(k), []).append(k)
        return list(groups.values())

    # ---- core account operations ------------------------------------------------------------
    async def create_account(self, char_id: Key, initial_data: Mapping[str, Any]) -> None:
        """Validates the document, fills missing sections with defaults, stores it."""
        await self._call("ACCOUNT.CREATE", self.key(char_id), json.dumps(initial_data))

    async def account_exists(self, char_id: Key) -> bool:
        return bool(await self._call("ACCOUNT.EXISTS", self.key(char_id)))

    async def get_full_account(self, char_id: Key) -> Optional[dict[str, Any]]:
        return await self._get(char_id)

    async def delete_account(self, char_id: Key) -> None:
        await self._call("ACCOUNT.DEL", self.key(char_id))

    # ---- bio ------------------------------------------------------------------------------
    async def get_bio(self, char_id: Key) -> Optional[dict[str, Any]]:
        return await self._get(char_id, "bio")

    async def update_bio(self, char_id: Key, bio_data: Mapping[str, Any]) -> None:
        await self._call("ACCOUNT.SET", self.key(char_id), "bio", json.dumps(bio_data))

    async def update_bio_field(self, char_id: Key, field: str, value: Any) -> None:
        await self._call("ACCOUNT.SET", self.key(char_id), f"bio.{field}", json.dumps(value))

    # ---- stats ----------------------------------------------------------------------------
    async def get_stats(self, char_id: Key) -> Optional[dict[str, Any]]:
        """The vitals, brought up to date with regeneration (nothing is written)."""
        return await self._get(char_id, "stats")

    async def update_stat(self, char_id: Key, stat_name: str, value: Mapping[str, int]) -> None:
        """Sets ``cur`` and ``max`` (``cur`` clamped into ``[0, max]``)."""
        await self._call("ACCOUNT.SETSTAT", self.key(char_id), stat_name, int(value["cur"]), int(value["max"]))

    async def update_stat_current(self, char_id: Key, stat_name: str, value: int) -> None:
        """Sets ``cur`` only, clamped into ``[0, max]``."""
        await self._call("ACCOUNT.SETSTAT", self.key(char_id), stat_name, int(value))

    # ---- attributes -------------------------------------------------------------------------
    async def get_attributes(self, char_id: Key) -> Optional[dict[str, int]]:
        return await self._get(char_id, "attributes")

    async def update_attributes(self, char_id: Key, attributes: Mapping[str, int]) -> None:
        """Replaces the section; attributes not given take the default (8)."""
        await self._call("ACCOUNT.SET", self.key(char_id), "attributes", json.dumps(attributes))

    # ---- sessions ---------------------------------------------------------------------------
    async def get_sessions(self, char_id: Key) -> Optional[dict[str, Any]]:
        return await self._get(char_id, "sessions")

    async def set_combat_session(self, char_id: Key, session_id: Optional[str]) -> None:
        await self.set_session(char_id, "combat", session_id)

    async def set_inventory_session(self, char_id: Key, session_id: Optional[str]) -> None:
        await self.set_session(char_id, "inventory", session_id)

    # ---- state and location -------------------------------------------------------------------
    async def get_state(self, char_id: Key) -> Optional[str]:
        return await self._get(char_id, "state")

    async def set_state(self, char_id: Key, state: str) -> None:
        await self.transition_state(char_id, state)

    async def get_location(self, char_id: Key) -> Optional[dict[str, Any]]:
        return await self._get(char_id, "location")

    async def set_location(self, char_id: Key, location_id: str) -> None:
        await self.move(char_id, location_id)

    # ---- lobby cache ------------------------------------------------------------------------
    async def get_lobby_cache(self, user_id: Key) -> Optional[list[dict[str, Any]]]:
        return _json(await self._call("LOBBY.GETCACHE", self.lobby(user_id)))

    async def set_lobby_cache(self, user_id: Key, characters_data: Sequence[Mapping[str, Any]]) -> None:
        args: tuple[Any, ...] = ("LOBBY.SETCACHE", self.lobby(user_id), json.dumps(list(characters_data)))
        if self.lobby_ttl is not None:
            args += ("EX", int(self.lobby_ttl))
        await self._call(*args)

    async def delete_lobby_cache(self, user_id: Key) -> None:
        await self._call("LOBBY.DELCACHE", self.lobby(user_id))

    # ---- operations the original code added later ---------------------------------------------
    async def get_account_field(self, char_id: Key, field_path: str) -> Any:
        """One field by dotted path (``bio.name``, ``stats.hp.cur``); a leading ``$.`` is allowed."""
        path = field_path[2:] if field_path.startswith("$.") else field_path
        return await self._get(char_id, path)

    async def update_account_fields(self, char_id: Key, updates: Mapping[str, Any]) -> None:
        """Several fields by dotted path, all or nothing."""
        if not updates:
            return
        args: list[Any] = ["ACCOUNT.SET", self.key(char_id)]
        for path, value in updates.items():
            args += [path[2:] if path.startswith("$.") else path, json.dumps(value)]
        await self._call(*args)

    async def enter_scenario(self, char_id: Key, scenario_id: str, state: str = "scenario") -> None:
        await self.transition_state(char_id, state)
        await self.set_session(char_id, "scenario", scenario_id)

    async def leave_scenario(self, char_id: Key, next_state: str = "exploration") -> None:
        await self.set_session(char_id, "scenario", None)
        await self.transition_state(char_id, next_state)

    async def transition_to_state(self, char_id: Key, new_state: str) -> None:
        """Sets the state and keeps the old one in ``prev_state``."""
        await self.transition_state(char_id, new_state)

    async def get_gear_score(self, char_id: Key) -> Optional[int]:
        return await self._get(char_id, "metrics.gear_score")

    async def set_gear_score(self, char_id: Key, value: int) -> None:
        await self._call("ACCOUNT.SET", self.key(char_id), "metrics.gear_score", int(value))

    async def update_metrics(self, char_id: Key, metrics: Mapping[str, int]) -> None:
        """Sets the given metrics; the others keep their values."""
        await self.update_account_fields(char_id, {f"metrics.{k}": int(v) for k, v in metrics.items()})

    async def increment_metric(self, char_id: Key, field: str, delta: int = 1) -> int:
        """Atomic increment; returns the new value (raises MetricOverflow past 2^63-1)."""
        return int(await self._call("ACCOUNT.INCR", self.key(char_id), f"metrics.{field}", int(delta)))

    async def bulk_link_combat_session(self, char_ids: Iterable[Key], combat_id: str) -> int:
        """Links every character, all or nothing (per cluster slot under Redis Cluster)."""
        n = 0
        for group in self._by_slot([self.key(c) for c in char_ids]):
            n += int(await self._call("ACCOUNT.LINK", "combat", combat_id, *group))
        return n

    async def bulk_unlink_combat_session(self, char_ids: Iterable[Key]) -> int:
        """Clears the combat session of every character still logged in; returns how many."""
        n = 0
        for group in self._by_slot([self.key(c) for c in char_ids]):
            n += int(await self._call("ACCOUNT.UNLINK", "combat", *group))
        return n

    async def get_accounts_json_batch(self, char_ids: Iterable[Key]) -> dict[Key, Optional[dict[str, Any]]]:
        """{char_id: document or None}, in as few calls as the cluster slots allow."""
        ids = list(char_ids)
        by_key = {self.key(c): c for c in ids}
        out: dict[Key, Optional[dict[str, Any]]] = {}
        for group in self._by_slot(list(by_key)):
            docs = await self._call("ACCOUNT.MGET", *group)
            for k, d in zip(group, docs):
                if isinstance(d, ResponseError):
                    raise translate(d)
                out[by_key[k]] = _json(d)
        return {c: out.get(c) for c in ids}

    # ---- what the module adds -----------------------------------------------------------------
    async def damage(self, char_id: Key, amount: int, stat: str = "hp") -> tuple[int, int]:
        """Takes ``amount``, never below 0: (new cur, amount actually taken)."""
        cur, applied = await self._call("ACCOUNT.DAMAGE", self.key(char_id), int(amount), stat)
        return int(cur), int(applied)

    async def heal(self, char_id: Key, amount: int, stat: str = "hp") -> tuple[int, int]:
        """Adds ``amount``, never above max: (new cur, amount actually added)."""
        cur, applied = await self._call("ACCOUNT.HEAL", self.key(char_id), int(amount), stat)
        return int(cur), int(applied)

    async def spend(self, char_id: Key, stat: str, amount: int) -> int:
        """Takes ``amount`` only if there is enough (else InsufficientResource); the new cur."""
        cur, _ = await self._call("ACCOUNT.SPEND", self.key(char_id), stat, int(amount))
        return int(cur)

    async def apply(self, char_id: Key, deltas: Mapping[str, int]) -> dict[str, tuple[int, int]]:
        """Several vitals by signed deltas in one atomic step: {stat: (new cur, applied)}."""
        args: list[Any] = ["ACCOUNT.APPLY", self.key(char_id)]
        for stat, d in deltas.items():
            args += [stat, int(d)]
        replies = await self._call(*args)
        return {stat: (int(r[0]), int(r[1])) for stat, r in zip(deltas, replies)}

    async def regen(self, char_id: Key) -> dict[str, Any]:
        """Stores the vitals brought up to date; returns the stats section."""
        return _json(await self._call("ACCOUNT.REGEN", self.key(char_id)))

    async def transition_state(self, char_id: Key, new_state: str, expected: Optional[str] = None) -> str:
        """Sets the state (old one to prev_state); with ``expected``, only from that state
        (else StateConflict). Returns the previous state."""
        args: tuple[Any, ...] = ("ACCOUNT.STATE", self.key(char_id), new_state)
        if expected is not None:
            args += ("FROM", expected)
        return _text(await self._call(*args))

    async def move(self, char_id: Key, location_id: str) -> Optional[str]:
        """Moves the character; returns the previous location."""
        return _text(await self._call("ACCOUNT.MOVE", self.key(char_id), location_id))

    async def set_session(self, char_id: Key, kind: str, session_id: Optional[str]) -> Optional[str]:
        """Links (or with None clears) a combat, inventory or scenario session; the previous id."""
        return _text(await self._call("ACCOUNT.SESSION", self.key(char_id), kind, "NONE" if session_id is None else session_id))

    async def logout(self, char_id: Key, stream: str) -> str:
        """Hands the session to a stream for a persistence worker and deletes it; the entry ID."""
        return _text(await self._call("ACCOUNT.LOGOUT", self.key(char_id), stream))
