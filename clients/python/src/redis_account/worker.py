"""The persistence worker: saves the sessions handed off to a stream (``ACCOUNT.LOGOUT``, idle
expiry, eviction) into PostgreSQL, exactly once in effect.

Run it::

    python -m redis_account.worker --redis redis://127.0.0.1:6379 \\
        --dsn postgresql://game@127.0.0.1/game [--stream logouts] [--group savers] \\
        [--consumer NAME] [--table account_sessions]

or embed it (``SessionSaver(redis_client, dsn).run()``). What it does, per batch of entries:

1. reads the stream with a consumer group (created with ``MKSTREAM`` at ``0`` if missing: entries
   written before the worker first ran are saved too); at start its own pending entries first, then
   new ones, and every ``claim_interval`` it takes over (``XAUTOCLAIM``) entries another consumer
   read and left unacknowledged for ``claim_idle_ms`` (a crashed worker);
2. parses each entry (fields ``key``, ``ts``, ``doc``, ``reason``; no ``reason`` = ``logout``).
   An entry without a ``doc``, with a ``doc`` that is not a JSON object, or whose key has no
   integer char_id after its last ``ac:`` is poison: it is appended to the dead-letter stream
   (``<stream>:dead``) with the reason and acknowledged, never retried;
3. upserts one row per character in one transaction, guarded by the version (the entry id as the
   pair (ms, seq)): a replayed or reordered entry never overwrites a newer save;
4. acknowledges the batch only after the commit. A database (or Redis) outage stops the
   acknowledging: the batch is retried with a capped exponential backoff until it commits.

Under Redis Cluster (detected from the server) the worker reads every stream named
``<stream>{<tag>}`` (the module's per-slot handoff streams) found by ``SCAN`` on every primary,
rescanned every ``scan_interval`` seconds.

The table (created if missing unless ``create_table=False``)::

    CREATE TABLE account_sessions (
        char_id     bigint PRIMARY KEY,
        doc         jsonb NOT NULL,
        version_ms  bigint NOT NULL,   -- the stream entry id <ms>-<seq> of the saved handoff
        version_seq bigint NOT NULL,
        reason      text NOT NULL,     -- logout, idle or evicted
        saved_at    timestamptz NOT NULL DEFAULT now())

A game's own table: ``columns={"doc": "data", ...}`` renames the columns of the built-in upsert,
or ``save=`` an async callable ``(conn, char_id, doc, version, reason)`` does the write itself (in
the batch's transaction; its own guard against older versions).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, Union, cast

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, TimeoutError as RedisTimeoutError

log = logging.getLogger("redis_account.worker")

Version = Tuple[int, int]
BIGINT_MAX = 2**63 - 1
KEY_RE = re.compile(rb"ac:([0-9]+)\Z")


class PgConnection(Protocol):
    """The part of an ``asyncpg.Connection`` the worker uses (and a ``save`` callback gets)."""

    async def execute(self, query: str, *args: Any, timeout: Optional[float] = None) -> str: ...
    async def fetchrow(self, query: str, *args: Any, timeout: Optional[float] = None) -> Any: ...
    def transaction(self) -> Any: ...
    async def close(self, *, timeout: Optional[float] = None) -> None: ...
    def is_closed(self) -> bool: ...


SaveFn = Callable[[PgConnection, int, Dict[str, Any], Version, str], Awaitable[None]]


@dataclass
class Session:
    """One handed-off session, parsed from its stream entry."""

    stream: str
    entry_id: str
    char_id: int
    doc_text: str
    doc: Dict[str, Any]
    version: Version
    reason: str
    key: str


@dataclass
class Poison:
    stream: str
    entry_id: str
    why: str
    fields: Dict[bytes, bytes]


@dataclass
class Metrics:
    """Counters since the worker started."""

    entries_saved: int = 0    # entries acknowledged after their batch committed
    rows_written: int = 0     # rows inserted or updated (a stale entry writes none)
    stale_skipped: int = 0    # entries older than the row (replays, reordering, batch duplicates)
    retried: int = 0          # batch attempts that failed on a database or Redis error and were retried
    dead_lettered: int = 0    # poison entries moved to the dead-letter stream
    claimed: int = 0          # entries taken over from other consumers with XAUTOCLAIM
    batches: int = 0
    started: float = field(default_factory=time.time)


def _b(v: Union[bytes, str]) -> bytes:
    return v if isinstance(v, bytes) else v.encode()


def _s(v: Union[bytes, str]) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def parse_version(entry_id: str) -> Version:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


def char_id_of(key: bytes) -> Optional[int]:
    """The integer after the key's last ``ac:`` (``ac:42``, ``{s7}ac:42``), or None."""
    i = key.rfind(b"ac:")
    if i < 0:
        return None
    m = KEY_RE.match(key, i)
    if m is None:
        return None
    n = int(m.group(1))
    return n if n <= BIGINT_MAX else None


def parse_entry(stream: str, entry_id: str, fields: Optional[Mapping[Any, Any]]) -> Union[Session, Poison]:
    """An entry as a Session, or as Poison with the reason it cannot be saved."""
    raw: Dict[bytes, bytes] = {_b(k): _b(v) for k, v in (fields or {}).items()}
    if fields is None:
        return Poison(stream, entry_id, "entry deleted from the stream before it was saved", raw)
    try:
        version = parse_version(entry_id)
    except ValueError:
        return Poison(stream, entry_id, f"entry id {entry_id!r} is not <ms>-<seq>", raw)
    if version[0] > BIGINT_MAX or version[1] > BIGINT_MAX:
        return Poison(stream, entry_id, "entry id out of the bigint range", raw)
    key = raw.get(b"key")
    if key is None:
        return Poison(stream, entry_id, "no key field", raw)
    char_id = char_id_of(key)
    if char_id is None:
        return Poison(stream, entry_id, "the key has no integer char_id after its last ac:", raw)
    text = raw.get(b"doc")
    if text is None:
        return Poison(stream, entry_id, "no doc field", raw)
    try:
        doc_text = text.decode("utf-8")
        doc = json.loads(doc_text)
    except (UnicodeDecodeError, ValueError) as e:
        return Poison(stream, entry_id, f"doc is not JSON: {e}", raw)
    if not isinstance(doc, dict):
        return Poison(stream, entry_id, "doc is not a JSON object", raw)
    reason = _s(raw.get(b"reason", b"logout")) or "logout"
    return Session(stream, entry_id, char_id, doc_text, doc, version, reason, _s(key))


def _quote(name: str) -> str:
    """An SQL identifier, each dotted part quoted (``game.sessions`` -> ``"game"."sessions"``)."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in name.split("."))


COLUMNS = ("char_id", "doc", "version_ms", "version_seq", "reason", "saved_at")


def is_transient(e: BaseException) -> bool:
    """A failure worth retrying (the database or network down, overloaded, restarting), as
    opposed to one entry the database refuses (a bad value): that entry is dead-lettered."""
    if isinstance(e, (OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                      RedisConnectionError, RedisTimeoutError)):
        return True
    if _redis_loading(e):
        return True
    state = getattr(e, "sqlstate", None) or ""
    return isinstance(state, str) and state[:2] in ("08", "40", "53", "57", "58")


class SessionSaver:
    """Saves handed-off sessions from Redis streams into PostgreSQL (see the module docstring).

    ``redis``: a ``redis.asyncio.Redis`` or ``RedisCluster`` with ``decode_responses=False`` (the
    default: an entry that is not UTF-8 is then dead-lettered instead of failing the read).
    ``dsn``: an asyncpg DSN, or a zero-argument async callable returning a connection.
    """

    def __init__(
        self,
        redis: Any,
        dsn: Union[str, Callable[[], Awaitable[PgConnection]]],
        *,
        stream: str = "logouts",
        group: str = "savers",
        consumer: Optional[str] = None,
        table: str = "account_sessions",
        columns: Optional[Mapping[str, str]] = None,
        save: Optional[SaveFn] = None,
        create_table: Optional[bool] = None,
        dead_suffix: str = ":dead",
        batch: int = 200,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        claim_interval: float = 5.0,
        scan_interval: float = 10.0,
        retry_initial: float = 0.05,
        retry_max: float = 2.0,
        metrics_interval: float = 60.0,
        cluster: Optional[bool] = None,
    ) -> None:
        unknown = set(columns or {}) - set(COLUMNS)
        if unknown:
            raise ValueError(f"columns: unknown names {sorted(unknown)} (known: {', '.join(COLUMNS)})")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.redis = redis
        self.dsn = dsn
        self.stream = stream
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.table = table
        self.columns = {c: (columns or {}).get(c, c) for c in COLUMNS}
        self.save = save
        self.create_table = (save is None) if create_table is None else create_table
        self.dead_suffix = dead_suffix
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.claim_interval = claim_interval
        self.scan_interval = scan_interval
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.metrics_interval = metrics_interval
        self.cluster = cluster
        self.metrics = Metrics()
        self._conn: Optional[PgConnection] = None
        self._streams: List[str] = []
        self._own_pending: Dict[str, bool] = {}  # stream -> its own pending entries still to re-read
        self._claim_cursor: Dict[str, str] = {}
        self._last_claim = 0.0
        self._last_scan = -1e18
        self._last_metrics = time.monotonic()
        self._stop = asyncio.Event()
        self._started = False

    # ---- names -----------------------------------------------------------------------------------
    def dead_stream(self, stream: str) -> str:
        """The dead-letter stream of ``stream`` (same hash tag, so the same cluster slot)."""
        return stream + self.dead_suffix

    def _upsert_sql(self) -> str:
        t, c = _quote(self.table), {k: _quote(v) for k, v in self.columns.items()}
        return (
            f"INSERT INTO {t} ({c['char_id']}, {c['doc']}, {c['version_ms']}, {c['version_seq']}, {c['reason']}, {c['saved_at']}) "
            "SELECT u.c, u.d::jsonb, u.m, u.s, u.r, now() "
            "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS u(c, d, m, s, r) "
            f"ON CONFLICT ({c['char_id']}) DO UPDATE SET {c['doc']} = EXCLUDED.{c['doc']}, "
            f"{c['version_ms']} = EXCLUDED.{c['version_ms']}, {c['version_seq']} = EXCLUDED.{c['version_seq']}, "
            f"{c['reason']} = EXCLUDED.{c['reason']}, {c['saved_at']} = EXCLUDED.{c['saved_at']} "
            f"WHERE ({t}.{c['version_ms']}, {t}.{c['version_seq']}) < (EXCLUDED.{c['version_ms']}, EXCLUDED.{c['version_seq']})"
        )

    def create_sql(self) -> str:
        t, c = _quote(self.table), {k: _quote(v) for k, v in self.columns.items()}
        return (
            f"CREATE TABLE IF NOT EXISTS {t} ({c['char_id']} bigint PRIMARY KEY, {c['doc']} jsonb NOT NULL, "
            f"{c['version_ms']} bigint NOT NULL, {c['version_seq']} bigint NOT NULL, {c['reason']} text NOT NULL, "
            f"{c['saved_at']} timestamptz NOT NULL DEFAULT now())"
        )

    # ---- connections -------------------------------------------------------------------------------
    async def _pg(self) -> PgConnection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = None
        if isinstance(self.dsn, str):
            conn = cast(PgConnection, await asyncpg.connect(self.dsn, timeout=10, command_timeout=60))
        else:
            conn = await self.dsn()
        try:
            if self.create_table:
                await conn.execute(self.create_sql())
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn

    async def _drop_pg(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                pass

    def _is_cluster(self) -> bool:
        if self.cluster is None:
            self.cluster = hasattr(self.redis, "get_primaries") and hasattr(self.redis, "keyslot")
        return self.cluster

    async def _ensure_group(self, stream: str) -> None:
        try:
            await self.redis.execute_command("XGROUP", "CREATE", stream, self.group, "0", "MKSTREAM")
            log.info("created group %s on %s", self.group, stream)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def _refresh_streams(self) -> None:
        """The streams to read: the one stream, or under a cluster every ``<stream>{*`` stream
        (dead-letter streams excepted) on every primary."""
        if not self._is_cluster():
            found = [self.stream]
        else:
            names = set()
            for node in self.redis.get_primaries():
                cursor: Any = 0
                while True:
                    reply = await self.redis.execute_command(
                        "SCAN", cursor, "MATCH", self.stream + "{*", "COUNT", 1000, "TYPE", "stream", target_nodes=node)
                    cursor, keys = reply
                    if isinstance(cursor, dict):  # redis-py's cluster SCAN: ({node name: cursor}, keys)
                        cursor = next(iter(cursor.values()))
                    for k in keys:
                        k = _s(k)
                        if not k.endswith(self.dead_suffix) and k.endswith("}") and k.startswith(self.stream + "{"):
                            names.add(k)
                    if int(cursor) == 0:
                        break
            found = sorted(names)
        for s in found:
            if s not in self._own_pending:
                await self._ensure_group(s)
                self._own_pending[s] = True
        self._streams = found
        self._last_scan = time.monotonic()

    # ---- reading -------------------------------------------------------------------------------------
    async def _read(self, stream: str, block: Optional[int]) -> List[Tuple[str, Optional[Mapping[Any, Any]]]]:
        own = self._own_pending.get(stream, True)
        args: List[Any] = ["XREADGROUP", "GROUP", self.group, self.consumer, "COUNT", self.batch]
        if block is not None and not own:
            args += ["BLOCK", block]
        args += ["STREAMS", stream, "0" if own else ">"]
        try:
            reply = await self.redis.execute_command(*args)
        except ResponseError as e:
            if "NOGROUP" in str(e):  # the stream or its group is gone (deleted, a server without persistence)
                await self._ensure_group(stream)
                return []
            raise
        entries = _entries_of(reply)
        if own and not entries:
            self._own_pending[stream] = False
        return entries

    async def _claim(self, stream: str) -> List[Tuple[str, Optional[Mapping[Any, Any]]]]:
        """Entries other consumers left pending for claim_idle_ms, taken over (XAUTOCLAIM)."""
        start = self._claim_cursor.get(stream, "0-0")
        reply = await self.redis.execute_command(
            "XAUTOCLAIM", stream, self.group, self.consumer, self.claim_idle_ms, start, "COUNT", self.batch)
        self._claim_cursor[stream] = _s(reply[0])
        out: List[Tuple[str, Optional[Mapping[Any, Any]]]] = []
        for e in reply[1] or []:
            if e is None:
                continue
            eid, fields = e[0], e[1]
            out.append((_s(eid), _fields(fields)))
        # Redis 7+: ids of pending entries no longer in the stream (XAUTOCLAIM dropped them).
        for eid in (reply[2] if len(reply) > 2 else None) or []:
            out.append((_s(eid), None))
        self.metrics.claimed += len(out)
        return out

    # ---- saving ----------------------------------------------------------------------------------------
    async def _commit(self, sessions: Sequence[Session]) -> List[Tuple[Session, str]]:
        """Writes the sessions in one transaction; returns those the database refused (a bad value:
        the caller dead-letters them). Raises on a transient failure (nothing committed)."""
        # One row per character in a batch: its newest entry (ids of one character's stream order it).
        newest: Dict[int, Session] = {}
        for s in sessions:
            cur = newest.get(s.char_id)
            if cur is None or cur.version < s.version:
                newest[s.char_id] = s
        rows = list(newest.values())
        conn = await self._pg()
        try:
            written = await self._write(conn, rows)
        except Exception as e:
            if is_transient(e):
                raise
            if len(rows) == 1:
                return [(rows[0], f"refused by the database: {type(e).__name__}: {e}")]
            # One of them is refused: each on its own, to find which.
            refused: List[Tuple[Session, str]] = []
            written = 0
            for s in rows:
                try:
                    written += await self._write(conn, [s])
                except Exception as e1:
                    if is_transient(e1):
                        raise
                    refused.append((s, f"refused by the database: {type(e1).__name__}: {e1}"))
            self.metrics.rows_written += written
            gone = {r.char_id for r, _ in refused}
            self.metrics.stale_skipped += sum(1 for s in sessions if s.char_id not in gone) - written
            return refused
        self.metrics.rows_written += written
        self.metrics.stale_skipped += len(sessions) - written
        return []

    async def _write(self, conn: PgConnection, rows: Sequence[Session]) -> int:
        async with conn.transaction():
            if self.save is not None:
                for s in rows:
                    await self.save(conn, s.char_id, s.doc, s.version, s.reason)
                return len(rows)
            status = await conn.execute(
                self._upsert_sql(),
                [s.char_id for s in rows], [s.doc_text for s in rows],
                [s.version[0] for s in rows], [s.version[1] for s in rows], [s.reason for s in rows])
            return int(status.rsplit(" ", 1)[-1])

    async def _dead(self, poison: Sequence[Poison]) -> None:
        """Poison to the dead-letter stream, each with why, and acknowledged (MULTI where the
        client can: both or neither)."""
        for p in poison:
            log.warning("dead-letter %s %s: %s", p.stream, p.entry_id, p.why)
            fields: Dict[Any, Any] = {"stream": p.stream, "id": p.entry_id, "error": p.why, "group": self.group}
            for k, v in p.fields.items():
                fields[b"field:" + k] = v
            args: List[Any] = ["XADD", self.dead_stream(p.stream), "*"]
            for k, v in fields.items():
                args += [k, v]
            if self._is_cluster():
                await self.redis.execute_command(*args)
                await self.redis.execute_command("XACK", p.stream, self.group, p.entry_id)
            else:
                pipe = self.redis.pipeline(transaction=True)
                pipe.execute_command(*args)
                pipe.execute_command("XACK", p.stream, self.group, p.entry_id)
                await pipe.execute()
            self.metrics.dead_lettered += 1

    async def _handle(self, stream: str, entries: Sequence[Tuple[str, Optional[Mapping[Any, Any]]]]) -> None:
        """One read's entries: saved and acknowledged (retried until done), poison dead-lettered."""
        sessions: List[Session] = []
        poison: List[Poison] = []
        for eid, fields in entries:
            p = parse_entry(stream, eid, fields)
            if isinstance(p, Session):
                sessions.append(p)
            else:
                poison.append(p)
        delay = self.retry_initial
        committed = not sessions
        while True:
            try:
                if not committed:
                    refused = await self._commit(sessions)
                    committed = True
                    bad = {s.entry_id for s, _ in refused}
                    poison += [Poison(s.stream, s.entry_id, why, {b"key": s.key.encode(), b"doc": s.doc_text.encode(),
                                                                 b"reason": s.reason.encode()}) for s, why in refused]
                    sessions = [s for s in sessions if s.entry_id not in bad]
                if sessions:
                    await self.redis.execute_command("XACK", stream, self.group, *[s.entry_id for s in sessions])
                    self.metrics.entries_saved += len(sessions)
                    sessions = []
                if poison:
                    await self._dead(poison)
                    poison = []
                self.metrics.batches += 1
                return
            except Exception as e:
                if not is_transient(e):
                    raise
                self.metrics.retried += 1
                log.warning("%s failed (%s: %s); retrying in %.2fs, nothing acknowledged",
                            "acknowledging" if committed else "saving", type(e).__name__, e, delay)
                if not committed:
                    await self._drop_pg()
                await self._sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.retry_max)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    # ---- the loop ----------------------------------------------------------------------------------------
    async def step(self) -> int:
        """One round: rescans (cluster), claims abandoned entries (every claim_interval), reads each
        stream once, saves what it got. The number of entries handled."""
        if not self._started:  # the table made (and the database reached) before anything is read
            await self._pg()
            self._started = True
        now = time.monotonic()
        if not self._streams or (self._is_cluster() and now - self._last_scan >= self.scan_interval):
            await self._refresh_streams()
        n = 0
        if now - self._last_claim >= self.claim_interval:
            self._last_claim = now
            for s in self._streams:
                got = await self._claim(s)
                if got:
                    await self._handle(s, got)
                    n += len(got)
        # One stream: block on it; several (cluster): poll each, the caller sleeps when all were empty.
        block = self.block_ms if len(self._streams) == 1 else None
        for s in self._streams:
            got = await self._read(s, block)
            if got:
                await self._handle(s, got)
                n += len(got)
        if time.monotonic() - self._last_metrics >= self.metrics_interval:
            self._last_metrics = time.monotonic()
            try:
                log.info("metrics %s", " ".join(f"{k}={v}" for k, v in (await self.stats()).items()))
            except Exception as e:
                log.warning("metrics unavailable: %s", e)
        return n

    async def run(self) -> None:
        """Runs until ``stop()``; Redis or database failures are retried, never fatal."""
        delay = self.retry_initial
        log.info("worker %s: stream %s, group %s, table %s", self.consumer, self.stream, self.group, self.table)
        while not self._stop.is_set():
            try:
                n = await self.step()
                delay = self.retry_initial
                if n == 0 and len(self._streams) != 1:
                    await self._sleep(min(self.block_ms, 100) / 1000)
            except Exception as e:
                if not is_transient(e):
                    raise
                # A batch may have been left unacknowledged: re-read this consumer's own pending first.
                for st in self._own_pending:
                    self._own_pending[st] = True
                self.metrics.retried += 1
                log.warning("redis unavailable (%s: %s); retrying in %.2fs", type(e).__name__, e, delay)
                await self._sleep(delay)
                delay = min(delay * 2, self.retry_max)
        await self._drop_pg()

    def stop(self) -> None:
        """Ends ``run()`` after the batch in hand (saved and acknowledged, or left pending)."""
        self._stop.set()

    # ---- metrics -----------------------------------------------------------------------------------------
    async def stats(self) -> Dict[str, Union[int, float, str]]:
        """The counters and the lag: entries in the streams, pending (read, not acknowledged) and
        the group's lag (entries not yet read; None on a server without it)."""
        m = self.metrics
        out: Dict[str, Union[int, float, str]] = {
            "consumer": self.consumer, "streams": len(self._streams), "entries_saved": m.entries_saved,
            "rows_written": m.rows_written, "stale_skipped": m.stale_skipped, "retried": m.retried,
            "dead_lettered": m.dead_lettered, "claimed": m.claimed, "batches": m.batches,
            "uptime_s": round(time.time() - m.started, 1)}
        length = pending = lag = 0
        lag_known = True
        for s in self._streams:
            length += int(await self.redis.execute_command("XLEN", s))
            for g in await self.redis.execute_command("XINFO", "GROUPS", s):
                info = _pairs(g)
                if info.get("name") == self.group:
                    pending += int(info.get("pending", 0))
                    if info.get("lag") is None:
                        lag_known = False
                    else:
                        lag += int(info["lag"])
        out.update(stream_length=length, pending=pending, lag=lag if lag_known else "unknown")
        return out

    async def info(self) -> str:
        """The metrics as INFO-style text (``# Worker`` then ``name:value`` lines)."""
        return "# Worker\r\n" + "".join(f"{k}:{v}\r\n" for k, v in (await self.stats()).items())


def _fields(raw: Any) -> Optional[Mapping[Any, Any]]:
    if raw is None:
        return None
    if isinstance(raw, dict):
        return raw
    it = list(raw)
    return dict(zip(it[0::2], it[1::2]))


def _entries_of(reply: Any) -> List[Tuple[str, Optional[Mapping[Any, Any]]]]:
    """XREADGROUP's reply (RESP2 list or RESP3 map, one stream) as [(id, fields or None)]."""
    if not reply:
        return []
    items = list(reply.values())[0] if isinstance(reply, dict) else reply[0][1]
    out: List[Tuple[str, Optional[Mapping[Any, Any]]]] = []
    for e in items or []:
        out.append((_s(e[0]), _fields(e[1])))
    return out


def _pairs(raw: Any) -> Dict[str, Any]:
    if isinstance(raw, dict):
        return {_s(k): (_s(v) if isinstance(v, bytes) else v) for k, v in raw.items()}
    it = list(raw)
    return {_s(k): (_s(v) if isinstance(v, bytes) else v) for k, v in zip(it[0::2], it[1::2])}


def _redis_loading(e: BaseException) -> bool:
    return isinstance(e, ResponseError) and str(e).startswith(("LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"))


async def load_session(conn: PgConnection, char_id: int, *, table: str = "account_sessions",
                       doc_column: str = "doc") -> Optional[Dict[str, Any]]:
    """The saved document of a character (None if never saved), for
    ``AccountManager.restore_session`` at login."""
    row = await conn.fetchrow(f"SELECT {_quote(doc_column)}::text FROM {_quote(table)} WHERE char_id = $1", char_id)
    if row is None:
        return None
    return cast(Dict[str, Any], json.loads(row[0]))


async def _client_from_url(url: str, cluster: Optional[bool]) -> Any:
    if cluster is None:
        probe = aioredis.Redis.from_url(url)
        try:
            for _ in range(600):
                try:
                    info = await probe.info("cluster")
                    break
                except (RedisConnectionError, RedisTimeoutError) as e:
                    log.warning("redis unavailable at start (%s); retrying", e)
                    await asyncio.sleep(0.5)
            else:
                raise SystemExit(f"redis unavailable at {url}")
        finally:
            await probe.aclose()
        cluster = bool(int(info.get("cluster_enabled", 0)))
    if cluster:
        rc = aioredis.RedisCluster.from_url(url)
        await rc.initialize()
        return rc
    return aioredis.Redis.from_url(url, health_check_interval=5)


def main(argv: Optional[Sequence[str]] = None) -> None:
    p = argparse.ArgumentParser(prog="python -m redis_account.worker", description=__doc__.split("\n\n")[0])
    p.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis URL (a cluster node for a cluster)")
    p.add_argument("--dsn", required=True, help="PostgreSQL DSN (asyncpg)")
    p.add_argument("--stream", default="logouts")
    p.add_argument("--group", default="savers")
    p.add_argument("--consumer", default=None, help="consumer name (default host-pid)")
    p.add_argument("--table", default="account_sessions")
    p.add_argument("--dead-suffix", default=":dead", help="dead-letter stream = <stream><suffix>")
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--block-ms", type=int, default=1000)
    p.add_argument("--claim-idle-ms", type=int, default=60_000, help="take over entries pending this long")
    p.add_argument("--claim-interval", type=float, default=5.0)
    p.add_argument("--scan-interval", type=float, default=10.0, help="cluster: rescan for streams every N s")
    p.add_argument("--retry-max", type=float, default=2.0, help="longest backoff between retries, s")
    p.add_argument("--metrics-interval", type=float, default=60.0, help="log the metrics every N s")
    p.add_argument("--cluster", choices=("auto", "yes", "no"), default="auto")
    p.add_argument("--log-level", default="INFO")
    a = p.parse_args(argv)
    logging.basicConfig(level=a.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def go() -> None:
        cluster = {"auto": None, "yes": True, "no": False}[a.cluster]
        client = await _client_from_url(a.redis, cluster)
        saver = SessionSaver(
            client, a.dsn, stream=a.stream, group=a.group, consumer=a.consumer, table=a.table,
            dead_suffix=a.dead_suffix, batch=a.batch, block_ms=a.block_ms, claim_idle_ms=a.claim_idle_ms,
            claim_interval=a.claim_interval, scan_interval=a.scan_interval, retry_max=a.retry_max,
            metrics_interval=a.metrics_interval, cluster=cluster)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, saver.stop)
        try:
            await saver.run()
            log.info("stopped: %s", " ".join(f"{k}={v}" for k, v in (await saver.stats()).items()))
        finally:
            await client.aclose()

    asyncio.run(go())


if __name__ == "__main__":
    main()
