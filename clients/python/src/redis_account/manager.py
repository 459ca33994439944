"""A drop-in async AccountManager on the redis-account module.

The original class's public methods with the same names, parameters, defaults and return shapes,
each one module command (validated, atomic, no read-modify-write in the client). Works with
``redis.asyncio.Redis`` and ``redis.asyncio.RedisCluster``, and with the original's
``RedisService`` wrapper around one of them. Every method also queues into a pipeline or a
MULTI/EXEC transaction: ``AccountManager.pipeline()``.

Errors: by default a refused write or a missing account is logged (logger ``redis_account``) and
the method returns what the original returned in that case, as the original's call sites expect.
``AccountManager(client, raise_errors=True)`` raises the typed exceptions of
``redis_account.errors`` instead. The package README lists every intentional difference.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union, cast

from redis.exceptions import ResponseError

from .autopipe import MAX_BATCH, AutoPipeline
from .commands import EXTRA_METHODS, ORIGINAL_METHODS, Commands, Key, Op, stamp, text, without_id
from .errors import AccountError, NoAccount, translate
from .types import (
    AccountDict,
    AttributesDict,
    BioDict,
    LobbyCharacterDict,
    LocationDict,
    MetricsDict,
    SessionsDict,
    StatsDict,
)

log = logging.getLogger("redis_account")


def _client_of(redis_service: Any) -> Any:
    """The redis client: the object itself, or the client a RedisService-like wrapper holds in
    ``redis_client`` (the attribute the original's RedisService stores it in)."""
    if hasattr(redis_service, "execute_command"):
        return _refuse_sync(redis_service)
    inner = getattr(redis_service, "redis_client", None)
    if inner is not None and hasattr(inner, "execute_command"):
        return _refuse_sync(inner)
    raise TypeError(
        "AccountManager needs a redis.asyncio client (Redis or RedisCluster) or an object holding one "
        f"in .redis_client (the original RedisService); got {type(redis_service).__name__}"
    )


def _refuse_sync(client: Any) -> Any:
    """A synchronous redis-py client would run each command and only then fail on ``await``:
    refused here, before anything is sent."""
    import redis as _redis
    import redis.cluster as _cluster

    if isinstance(client, (_redis.Redis, _cluster.RedisCluster)):
        raise TypeError(
            f"AccountManager needs an asyncio client: got the synchronous {type(client).__module__}."
            f"{type(client).__name__}; use redis.asyncio.Redis (or redis.asyncio.RedisCluster)"
        )
    return client


class AccountManager:
    """Character sessions (``ac:{char_id}``) and lobby caches (``lobby_session:{user_id}``).

    ``redis_service``: a ``redis.asyncio.Redis`` / ``RedisCluster``, or the original's
    ``RedisService`` (its ``redis_client`` is used).
    ``account_key`` / ``lobby_key``: format strings with ``{char_id}`` / ``{user_id}``. The lobby
    default is the key the original code writes at HEAD, so old and new instances share the cache
    during a rolling deploy. Under Redis Cluster a literal hash tag keeps a party in one slot
    (``"{{party1}}ac:{char_id}"``, braces doubled); without one the bulk methods send one
    command per slot.
    ``lobby_ttl``: seconds, 600 as the original; None defers to the module's ``account.lobby-ttl``.
    ``raise_errors``: False (default) logs a refused call and returns what the original returned;
    True raises ``redis_account.errors`` exceptions.
    ``auto_pipeline``: True (default) sends the calls concurrent tasks make in one event-loop turn
    together, in pipelines of at most ``auto_pipeline_batch`` (16) commands (no MULTI: each call
    stays its own command, with its own reply and error; ``redis_account.autopipe``). False sends
    each call alone, as a ``RedisCluster`` client always does.
    ``exactly_once``: True (default) gives every write a request id (``IDMP``) once, before it is
    first sent, so a resend (redis-py retries on timeouts and dropped connections) applies
    nothing twice and answers the first reply; every write method also takes a keyword-only
    ``request_id=`` for the application's own retries (a redelivered update). False sends no ids.
    """

    def __init__(
        self,
        redis_service: Any,
        *,
        account_key: str = "ac:{char_id}",
        lobby_key: str = "lobby_session:{user_id}",
        lobby_ttl: Optional[int] = 600,
        raise_errors: bool = False,
        auto_pipeline: bool = True,
        auto_pipeline_batch: int = MAX_BATCH,
        exactly_once: bool = True,
    ) -> None:
        self.redis_service = redis_service
        self.exactly_once = exactly_once
        self.redis = _client_of(redis_service)
        self.raise_errors = raise_errors
        if auto_pipeline_batch < 1:
            raise ValueError("auto_pipeline_batch must be at least 1")
        # Standalone clients only (redis_account.autopipe says why not a RedisCluster).
        self._auto = AutoPipeline(self.redis, auto_pipeline_batch) if auto_pipeline and not self._is_cluster() else None
        self.commands = Commands(account_key, lobby_key, lobby_ttl, self._by_slot)

    # ---- plumbing ----------------------------------------------------------------------------------
    @property
    def account_key(self) -> str:
        return self.commands.account_key

    @property
    def lobby_key(self) -> str:
        return self.commands.lobby_key

    def key(self, char_id: Key) -> str:
        return self.commands.key(char_id)

    def lobby(self, user_id: Key) -> str:
        return self.commands.lobby(user_id)

    def _is_cluster(self) -> bool:
        return hasattr(self.redis, "get_nodes") and hasattr(self.redis, "keyslot")

    def _by_slot(self, keys: Sequence[str]) -> List[List[str]]:
        """Keys grouped by cluster slot (one group outside a cluster), order kept."""
        if not keys:
            return []
        if not self._is_cluster():
            return [list(keys)]
        groups: Dict[int, List[str]] = {}
        for k in keys:
            groups.setdefault(self.redis.keyslot(k), []).append(k)
        return list(groups.values())

    def _failed(self, op: Op, e: ResponseError) -> Any:
        """A refused call: the absent value, the typed exception, or (compat) log and the
        original's return value."""
        err = translate(e)
        code = getattr(err, "code", "") or str(err).split(" ", 1)[0]
        if code in op.absent:
            return copy.copy(op.absent_value)
        if self.raise_errors:
            raise err from None
        log.warning("AccountManager | action=%s status=failed target=%s error=%s", op.name, op.target, err)
        return copy.copy(op.on_error)

    async def _run(self, op: Op, request_id: Optional[str] = None) -> Any:
        if self.exactly_once:
            stamp(op, request_id)
        try:
            calls = op.calls
            send = self._auto.execute_command if self._auto is not None else self.redis.execute_command
            if len(calls) == 1:
                replies = [await send(*calls[0])]
            else:
                replies = []
                for c in calls:
                    replies.append(await send(*c))
            return op.parse(replies, self.raise_errors)
        except ResponseError as e:
            return self._failed(op, e)

    def pipeline(self, transaction: Optional[bool] = True) -> "AccountPipeline":
        """A pipeline with every method of this class, queueing instead of sending;
        ``await p.execute()`` sends them (in MULTI/EXEC when ``transaction``) and returns each
        method's parsed result in order. Under Redis Cluster pass ``transaction=None``."""
        if transaction is None:
            pipe = self.redis.pipeline()
        else:
            pipe = self.redis.pipeline(transaction=transaction)
        return AccountPipeline(self, pipe)

    # ---- core ---------------------------------------------------------------------------------------
    async def create_account(self, char_id: int, initial_data: Mapping[str, Any], *, request_id: Optional[str] = None) -> None:
        """Stores the document (validated; missing sections filled with their defaults)."""
        await self._run(self.commands.create_account(char_id, initial_data), request_id)

    async def account_exists(self, char_id: int) -> bool:
        return cast(bool, await self._run(self.commands.account_exists(char_id)))

    async def get_full_account(self, char_id: int) -> Optional[AccountDict]:
        """The document, vitals up to date, ``stats.last_update`` = the time they are current at.
        (The original's annotation is ``dict | None``; at run time it returned a one-element list.)"""
        return cast(Optional[AccountDict], await self._run(self.commands.get_full_account(char_id)))

    async def delete_account(self, char_id: int, *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.delete_account(char_id), request_id)

    async def get_account_field(self, char_id: int, field_path: str) -> Any:
        """The value at ``field_path`` (``bio.name``, ``.bio.name``, ``$.bio.name``, ``$``), None
        when the account or the field is absent."""
        return await self._run(self.commands.get_account_field(char_id, field_path))

    async def update_account_fields(self, char_id: int, updates: Mapping[str, Any], *, request_id: Optional[str] = None) -> None:
        """Several fields (``{"stats": {...}, "sessions.scenario_id": "s1"}``), all or nothing."""
        await self._run(self.commands.update_account_fields(char_id, updates), request_id)

    # ---- bio ------------------------------------------------------------------------------------------
    async def get_bio(self, char_id: int) -> Optional[BioDict]:
        return cast(Optional[BioDict], await self._run(self.commands.get_bio(char_id)))

    async def update_bio(self, char_id: int, bio_data: Mapping[str, Any], *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.update_bio(char_id, bio_data), request_id)

    async def update_bio_field(self, char_id: int, field: str, value: Any, *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.update_bio_field(char_id, field, value), request_id)

    # ---- stats ----------------------------------------------------------------------------------------
    async def get_stats(self, char_id: int) -> Optional[StatsDict]:
        """The vitals up to date (nothing is written); ``last_update`` = when they are current."""
        return cast(Optional[StatsDict], await self._run(self.commands.get_stats(char_id)))

    async def update_stat(self, char_id: int, stat_name: str, value: Mapping[str, Any], *, request_id: Optional[str] = None) -> None:
        """Sets the given fields of a vital (``{"cur": 40}``, ``{"cur": 90, "max": 120, "regen": 2.0}``)
        in one write; fields not given keep their values."""
        await self._run(self.commands.update_stat(char_id, stat_name, value), request_id)

    async def update_stat_current(self, char_id: int, stat_name: str, value: int, *, request_id: Optional[str] = None) -> None:
        """Sets ``cur`` only, clamped into ``[0, max]``."""
        await self._run(self.commands.update_stat_current(char_id, stat_name, value), request_id)

    # ---- attributes -------------------------------------------------------------------------------------
    async def get_attributes(self, char_id: int) -> Optional[AttributesDict]:
        return cast(Optional[AttributesDict], await self._run(self.commands.get_attributes(char_id)))

    async def update_attributes(self, char_id: int, attributes: Mapping[str, int], *, request_id: Optional[str] = None) -> None:
        """Replaces the section; attributes not given take the default (8)."""
        await self._run(self.commands.update_attributes(char_id, attributes), request_id)

    # ---- sessions ---------------------------------------------------------------------------------------
    async def get_sessions(self, char_id: int) -> Optional[SessionsDict]:
        return cast(Optional[SessionsDict], await self._run(self.commands.get_sessions(char_id)))

    async def set_combat_session(self, char_id: int, session_id: Optional[str], *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.set_combat_session(char_id, session_id), request_id)

    async def set_inventory_session(self, char_id: int, session_id: Optional[str], *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.set_inventory_session(char_id, session_id), request_id)

    # ---- scenario ---------------------------------------------------------------------------------------
    async def enter_scenario(self, char_id: int, session_id: str, quest_key: str, *, request_id: Optional[str] = None) -> None:
        """``state`` = "SCENARIO" (old one to ``prev_state``), ``sessions.scenario_id`` and
        ``active_quest``, in one atomic command (``ACCOUNT.STATE ... SET ...``)."""
        await self._run(self.commands.enter_scenario(char_id, session_id, quest_key), request_id)

    async def leave_scenario(self, char_id: int, *, request_id: Optional[str] = None) -> None:
        """``state`` = "EXPLORATION" (old one to ``prev_state``), scenario session and
        ``active_quest`` cleared, in one atomic command."""
        await self._run(self.commands.leave_scenario(char_id), request_id)

    # ---- state and location ---------------------------------------------------------------------------
    async def get_state(self, char_id: int) -> Optional[str]:
        return cast(Optional[str], await self._run(self.commands.get_state(char_id)))

    async def set_state(self, char_id: int, state: str, *, request_id: Optional[str] = None) -> None:
        """Writes ``state`` only, as the original (``transition_to_state`` keeps ``prev_state``)."""
        await self._run(self.commands.set_state(char_id, state), request_id)

    async def transition_to_state(self, char_id: int, state: str, *, request_id: Optional[str] = None) -> None:
        """Sets the state and moves the old one to ``prev_state``, in one step."""
        await self._run(self.commands.transition_to_state(char_id, state), request_id)

    async def get_location(self, char_id: int) -> Optional[LocationDict]:
        return cast(Optional[LocationDict], await self._run(self.commands.get_location(char_id)))

    async def set_location(self, char_id: int, location_id: str, *, request_id: Optional[str] = None) -> None:
        """Writes ``location.current`` only, as the original (``move`` also keeps ``prev``)."""
        await self._run(self.commands.set_location(char_id, location_id), request_id)

    # ---- metrics ------------------------------------------------------------------------------------------
    async def get_metrics(self, char_id: int) -> Optional[MetricsDict]:
        return cast(Optional[MetricsDict], await self._run(self.commands.get_metrics(char_id)))

    async def get_gear_score(self, char_id: int) -> int:
        """The gear score; 0 when it or the account is missing."""
        return cast(int, await self._run(self.commands.get_gear_score(char_id)))

    async def set_gear_score(self, char_id: int, value: int, *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.set_gear_score(char_id, value), request_id)

    async def update_metrics(self, char_id: int, updates: Mapping[str, Any], *, request_id: Optional[str] = None) -> None:
        """Sets the given metrics in one write; the others keep their values."""
        await self._run(self.commands.update_metrics(char_id, updates), request_id)

    async def increment_metric(self, char_id: int, metric: str, delta: int = 1, *, request_id: Optional[str] = None) -> int:
        """Atomic increment; the new value."""
        return cast(int, await self._run(self.commands.increment_metric(char_id, metric, delta), request_id))

    # ---- lobby cache --------------------------------------------------------------------------------------
    async def get_lobby_cache(self, user_id: int) -> Optional[List[LobbyCharacterDict]]:
        return cast(Optional[List[LobbyCharacterDict]], await self._run(self.commands.get_lobby_cache(user_id)))

    async def set_lobby_cache(self, user_id: int, characters_data: Sequence[Mapping[str, Any]], *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.set_lobby_cache(user_id, characters_data), request_id)

    async def delete_lobby_cache(self, user_id: int, *, request_id: Optional[str] = None) -> None:
        await self._run(self.commands.delete_lobby_cache(user_id), request_id)

    # ---- batch --------------------------------------------------------------------------------------------
    async def bulk_link_combat_session(self, char_ids: Iterable[int], session_id: str, *, request_id: Optional[str] = None) -> None:
        """Links every character (one command per cluster slot, each all or nothing). Without
        ``raise_errors``, characters already logged out are skipped and the others linked, as
        the original did."""
        op = self.commands.bulk_link_combat_session(char_ids, session_id)
        if self.exactly_once:
            stamp(op, request_id)
        for call in op.calls:
            try:
                await self.redis.execute_command(*call)
            except ResponseError as e:
                err = translate(e)
                if self.raise_errors or not isinstance(err, NoAccount):
                    self._failed(op, e)
                    continue
                keys = list(without_id(call)[3:])
                states = await self.redis.execute_command("ACCOUNT.MGET", "PATH", "state", *keys)
                alive = [k for k, s in zip(keys, states) if s is not None and not isinstance(s, ResponseError)]
                log.warning("AccountManager | action=bulk_link_combat_session status=partial linked=%d missing=%d",
                            len(alive), len(keys) - len(alive))
                if alive:
                    try:
                        again = (*call[:3], *alive)
                        if self.exactly_once:
                            # Another command than the refused one: its own id, derived.
                            again += ("IDMP", call[-1] + ":p") if call[-2] == "IDMP" else ()
                        await self.redis.execute_command(*again)
                    except ResponseError as e2:
                        self._failed(op, e2)

    async def bulk_unlink_combat_session(self, char_ids: Iterable[int], *, request_id: Optional[str] = None) -> None:
        """Clears the combat session of every character still logged in."""
        await self._run(self.commands.bulk_unlink_combat_session(char_ids), request_id)

    async def get_accounts_json_batch(self, char_ids: Iterable[int], path: str = "$") -> List[Any]:
        """The value at ``path`` (the original's paths: ``$``, ``$.stats``, ``stats``...) of each
        account, in the order of ``char_ids``; None for a missing account or path."""
        return cast(List[Any], await self._run(self.commands.get_accounts_json_batch(char_ids, path)))

    # ---- what the module adds -----------------------------------------------------------------------------
    async def damage(self, char_id: Key, amount: int, stat: str = "hp", *, request_id: Optional[str] = None) -> Tuple[int, int]:
        """Takes ``amount``, never below 0: (new cur, amount actually taken)."""
        return cast(Tuple[int, int], await self._run(self.commands.damage(char_id, amount, stat), request_id))

    async def heal(self, char_id: Key, amount: int, stat: str = "hp", *, request_id: Optional[str] = None) -> Tuple[int, int]:
        """Adds ``amount``, never above max: (new cur, amount actually added)."""
        return cast(Tuple[int, int], await self._run(self.commands.heal(char_id, amount, stat), request_id))

    async def spend(self, char_id: Key, stat: str, amount: int, *, request_id: Optional[str] = None) -> int:
        """Takes ``amount`` only if there is enough (else InsufficientResource); the new cur."""
        return cast(int, await self._run(self.commands.spend(char_id, stat, amount), request_id))

    async def apply(self, char_id: Key, deltas: Mapping[str, int], *, request_id: Optional[str] = None) -> Dict[str, Tuple[int, int]]:
        """Several vitals by signed deltas in one atomic step: {stat: (new cur, applied)}."""
        return cast(Dict[str, Tuple[int, int]], await self._run(self.commands.apply(char_id, deltas), request_id))

    async def regen(self, char_id: Key, *, request_id: Optional[str] = None) -> Optional[StatsDict]:
        """Stores the vitals brought up to date; returns the stats section as written."""
        return cast(Optional[StatsDict], await self._run(self.commands.regen(char_id), request_id))

    async def transition_state(self, char_id: Key, new_state: str, expected: Optional[str] = None,
                               fields: Optional[Mapping[str, Any]] = None, *, request_id: Optional[str] = None) -> Optional[str]:
        """Sets the state (old one to prev_state) and the dotted ``fields`` in one atomic step;
        with ``expected``, only from that state (else StateConflict). The previous state."""
        return cast(Optional[str], await self._run(self.commands.transition_state(char_id, new_state, expected, fields), request_id))

    async def move(self, char_id: Key, location_id: str, *, request_id: Optional[str] = None) -> Optional[str]:
        """Moves the character (old location to ``location.prev``); the previous location."""
        return cast(Optional[str], await self._run(self.commands.move(char_id, location_id), request_id))

    async def set_session(self, char_id: Key, kind: str, session_id: Optional[str], *, request_id: Optional[str] = None) -> Optional[str]:
        """Links (or with None clears) a combat, inventory or scenario session; the previous id."""
        return cast(Optional[str], await self._run(self.commands.set_session(char_id, kind, session_id), request_id))

    async def logout(self, char_id: Key, stream: str, *, request_id: Optional[str] = None) -> Optional[str]:
        """Hands the session to a stream for a persistence worker and deletes it; the entry ID."""
        return cast(Optional[str], await self._run(self.commands.logout(char_id, stream), request_id))

    async def restore_session(self, char_id: Key, doc: Union[str, Mapping[str, Any]], *,
                              offline_regen: bool = False, vitals_section: str = "stats", request_id: Optional[str] = None) -> bool:
        """Login from the game's database: ``ACCOUNT.CREATE key <doc> NX`` of a saved document
        (a dict, or the JSON text of a ``jsonb`` column). True if restored, False if the session is
        still in Redis (nothing written: the live session is newer than any save). Each vital's
        ``since`` clock is cleared so regeneration counts from now, not over the time offline;
        ``offline_regen=True`` keeps the saved clocks (the offline time then regenerates)."""
        return cast(bool, await self._run(self.commands.restore_session(char_id, doc, offline_regen, vitals_section), request_id))


class AccountPipeline:
    """Every ``AccountManager`` method, queued into a redis-py pipeline (MULTI/EXEC when made with
    ``transaction=True``). Methods return the pipeline, so calls chain; ``await execute()`` returns
    each call's result, parsed as the manager's method would return it, in order. Errors follow
    the manager's ``raise_errors``."""

    def __init__(self, manager: AccountManager, pipe: Any) -> None:
        self.manager = manager
        self.pipe = pipe
        self._ops: List[Op] = []

    def __getattr__(self, name: str) -> Any:
        if name in ORIGINAL_METHODS or name in EXTRA_METHODS:
            build = getattr(self.manager.commands, name)

            def queue(*args: Any, request_id: Optional[str] = None, **kwargs: Any) -> "AccountPipeline":
                op = build(*args, **kwargs)
                if self.manager.exactly_once:
                    stamp(op, request_id)
                return self._queue(op)

            queue.__name__ = name
            return queue
        raise AttributeError(name)

    def _queue(self, op: Op) -> "AccountPipeline":
        for call in op.calls:
            self.pipe.execute_command(*call)
        self._ops.append(op)
        return self

    def execute_command(self, *args: Any) -> "AccountPipeline":
        """Queues any other command; its result is the raw reply."""
        return self._queue(Op("execute_command", [tuple(args)], lambda r, s: r[0]))

    def __len__(self) -> int:
        return len(self._ops)

    async def execute(self) -> List[Any]:
        ops, self._ops = self._ops, []
        replies = await self.pipe.execute(raise_on_error=False) if ops else []
        out: List[Any] = []
        i = 0
        for op in ops:
            chunk = list(replies[i:i + len(op.calls)])
            i += len(op.calls)
            err = next((r for r in chunk if isinstance(r, Exception)), None)
            if err is not None and not isinstance(err, ResponseError):
                raise err
            try:
                if err is not None:
                    raise err
                out.append(op.parse(chunk, self.manager.raise_errors))
            except ResponseError as e:
                out.append(self.manager._failed(op, e))
        return out

    async def reset(self) -> None:
        self._ops = []
        r = self.pipe.reset()
        if hasattr(r, "__await__"):
            await r

    async def __aenter__(self) -> "AccountPipeline":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.reset()


__all__ = ["AccountManager", "AccountPipeline", "AccountError"]
