"""Argument building apart from reply parsing, as redis-py's own ``json()`` commands do it.

Every ``AccountManager`` method is described here as an :class:`Op`: the commands to send (built
without any I/O) and a function that turns their replies into the method's return value. The
manager sends an ``Op`` directly; a pipeline queues its commands and parses the replies after
``execute()``. Nothing in this module talks to Redis.
"""
from __future__ import annotations

import copy
import json
import numbers
import operator
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from redis.exceptions import ResponseError

from .errors import translate

Key = Union[int, str]
Call = Tuple[Any, ...]
# (replies in call order, strict) -> the method's result. ``strict`` is the manager's
# ``raise_errors``: whether an error element inside an array reply raises or reads as None.
Parse = Callable[[List[Any], bool], Any]

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+\Z")


def integer(name: str, v: Any) -> int:
    """``v`` as sent: an ``int`` (or another integral type such as numpy's), never a bool, a
    float or a string turned into one. Anything else raises ``TypeError`` before a command is
    built, so nothing is sent; the range is the server's to check (its refusals keep their codes)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(v).__name__} {v!r}")
    return operator.index(v)


def ident(name: str, v: Any) -> Key:
    """An id put into a key template: an ``int`` (not a bool) or a ``str``, sent as given."""
    if isinstance(v, str):
        return v
    return integer(name, v)
_VITALS = ("hp", "mp", "stamina")


@dataclass(eq=False)
class Op:
    """One manager method call: ``calls`` to send in order, ``parse`` for their replies.

    ``on_error`` is what the original method returned when Redis refused its write or the
    account was missing (used when errors are not raised). ``absent`` lists error codes that mean
    "nothing there" for a read and give ``absent_value`` in both error modes, never an error.
    """

    name: str
    calls: List[Call]
    parse: Parse
    on_error: Any = None
    absent: FrozenSet[str] = field(default_factory=frozenset)
    absent_value: Any = None
    target: Any = None  # the char_id(s) / user_id, for log lines


# The module's write commands: each takes a trailing ``IDMP <request-id>`` (docs/commands.md,
# "Request ids"), the record of which makes a resent call answer its first reply.
WRITES: FrozenSet[str] = frozenset({
    "ACCOUNT.CREATE", "ACCOUNT.DEL", "ACCOUNT.SET", "ACCOUNT.STATE", "ACCOUNT.MOVE", "ACCOUNT.SESSION",
    "ACCOUNT.SETSTAT", "ACCOUNT.INCR", "ACCOUNT.LINK", "ACCOUNT.UNLINK", "ACCOUNT.DAMAGE", "ACCOUNT.HEAL",
    "ACCOUNT.SPEND", "ACCOUNT.APPLY", "ACCOUNT.REGEN", "ACCOUNT.LOGOUT", "LOBBY.SETCACHE", "LOBBY.DELCACHE",
})
MAX_REQUEST_ID = 64


def request_id(v: Any) -> str:
    """An application's own request id: a str of 1 to 60 bytes (the module takes 64; a method
    that sends several commands appends ``:<n>`` to it)."""
    if not isinstance(v, str):
        raise TypeError(f"request_id must be a str, not {type(v).__name__}")
    if not 1 <= len(v.encode()) <= MAX_REQUEST_ID - 4:
        raise ValueError(f"request_id must be 1 to {MAX_REQUEST_ID - 4} bytes")
    return v


def stamp(op: "Op", rid: Optional[str] = None) -> "Op":
    """Gives every module write of ``op`` a request id, once, before it is first sent: ``rid``
    (the application's own, so its own retries are exactly once too) or a fresh random one.
    Every resend of the same call (redis-py's retries, a reconnect) carries the same id, so
    the module applies it once and answers the resend with the first reply."""
    writes = [i for i, c in enumerate(op.calls) if c and c[0] in WRITES]
    if not writes:
        return op
    base = request_id(rid) if rid is not None else secrets.token_urlsafe(16)
    calls = list(op.calls)
    for n, i in enumerate(writes):
        calls[i] = tuple(calls[i]) + ("IDMP", base if len(writes) == 1 else f"{base}:{n}")
    op.calls = calls
    return op


def without_id(call: Call) -> Call:
    """A call's arguments without its trailing ``IDMP <request-id>``."""
    if len(call) >= 4 and call[-2] == "IDMP":
        return call[:-2]
    return call


def text(v: Any) -> Any:
    return v.decode() if isinstance(v, (bytes, bytearray)) else v


def loads(v: Any) -> Any:
    v = text(v)
    return None if v is None else json.loads(v)


def dumps(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def dotted(path: str) -> Optional[str]:
    """The module's dotted path for an original-style path, '' for the whole document, or None
    when the path is a JSONPath the module's dotted paths cannot express (filters, wildcards,
    indexes). Accepts what the original accepted: ``bio.name``, ``.bio.name``, ``$.bio.name``,
    ``$``."""
    p = path
    if p.startswith("$"):
        p = p[1:]
    if p.startswith("."):
        p = p[1:]
    if p == "":
        return ""
    segments = p.split(".")
    if all(_SEGMENT.match(s) for s in segments):
        return p
    return None


def _first(raw: Any) -> Any:
    """The first match of a ``JSON.GET key $...`` reply, None when nothing matched."""
    v = loads(raw)
    return v[0] if isinstance(v, list) and v else None


def coherent(path: str, value: Any, now: float) -> Any:
    """A read's value made coherent with a caller that regenerates from ``stats.last_update``.

    The module returns vitals already regenerated up to the moment of the read (and each vital's
    ``since`` clock moved to match). The stored ``last_update`` is older than that, so a caller
    that adds ``regen * (now - last_update)`` itself (the original's menu) would count the same
    time twice. The returned ``last_update`` is therefore the time the returned values are
    current at: ``now``, taken with ``time.time()`` when the reply arrived, the clock such a
    caller uses.

    A vital without a clock (``since`` null) below its rest point was written by something
    other than the module (an old instance during a rolling deploy) and was not regenerated by
    it; it gets the original's own formula from the stored ``last_update`` here, so that it is
    current at ``now`` too. Nothing is written.
    """
    if value is None:
        return None
    if path == "":
        stats = value.get("stats") if isinstance(value, dict) else None
        if isinstance(stats, dict):
            _bring_to(stats, now)
    elif path == "stats":
        if isinstance(value, dict):
            _bring_to(value, now)
    elif path == "stats.last_update":
        return now
    return value


def _is_number(x: Any) -> bool:
    return type(x) in (int, float)


def _bring_to(stats: Dict[str, Any], now: float) -> None:
    last = stats.get("last_update")
    if isinstance(last, (int, float)) and not isinstance(last, bool) and now > last:
        for name in _VITALS:
            v = stats.get(name)
            if not isinstance(v, dict) or v.get("since") is not None:
                continue
            cur, top, rate = v.get("cur"), v.get("max"), v.get("regen", 0.0)
            if not (_is_number(cur) and _is_number(top) and _is_number(rate)):
                continue
            assert cur is not None and top is not None and rate is not None
            if rate == 0 or (rate > 0 and cur >= top) or (rate < 0 and cur <= 0):
                continue
            v["cur"] = max(0, min(top, int(cur + rate * (now - last))))
    stats["last_update"] = now


class Commands:
    """Builds an :class:`Op` for every method. ``groups`` splits keys into groups that may share
    one multi-key command (one group outside Redis Cluster, one per slot inside)."""

    def __init__(
        self,
        account_key: str,
        lobby_key: str,
        lobby_ttl: Optional[int],
        groups: Callable[[Sequence[str]], List[List[str]]],
    ) -> None:
        self.account_key = account_key
        self.lobby_key = lobby_key
        self.lobby_ttl = None if lobby_ttl is None else integer("lobby_ttl", lobby_ttl)
        self.groups = groups

    def key(self, char_id: Key) -> str:
        return self.account_key.format(char_id=ident("char_id", char_id))

    def lobby(self, user_id: Key) -> str:
        return self.lobby_key.format(user_id=ident("user_id", user_id))

    # ---- generic shapes -------------------------------------------------------------------------
    def _read(self, name: str, char_id: Key, path: str, on_error: Any = None) -> Op:
        """ACCOUNT.GET of a dotted path ('' = the document); a path the document lacks is None."""
        args: Call = ("ACCOUNT.GET", self.key(char_id)) + ((path,) if path else ())

        def parse(r: List[Any], strict: bool) -> Any:
            return coherent(path, loads(r[0]), time.time())

        return Op(name, [args], parse, on_error=on_error, absent=frozenset({"NOPATH"}), target=char_id)

    def _jsonpath_read(self, name: str, char_id: Key, path: str) -> Op:
        """A JSONPath the dotted paths cannot express: plain ``JSON.GET``, first match."""
        return Op(name, [("JSON.GET", self.key(char_id), path)], lambda r, s: _first(r[0]), target=char_id)

    def _set(self, name: str, char_id: Key, pairs: Iterable[Tuple[str, Any]]) -> Op:
        args: List[Any] = ["ACCOUNT.SET", self.key(char_id)]
        for path, value in pairs:
            args += [path, dumps(value)]
        calls = [tuple(args)] if len(args) > 2 else []
        return Op(name, calls, lambda r, s: None, target=char_id)

    def _state(self, name: str, char_id: Key, new_state: str, expected: Optional[str],
               fields: Optional[Mapping[str, Any]], result: Callable[[Any], Any]) -> Op:
        args: List[Any] = ["ACCOUNT.STATE", self.key(char_id), str(new_state)]
        if expected is not None:
            args += ["FROM", str(expected)]
        if fields:
            args.append("SET")
            for path, value in fields.items():
                args += [_field_path(path), dumps(value)]
        return Op(name, [tuple(args)], lambda r, s: result(text(r[0])), target=char_id)

    # ---- core -----------------------------------------------------------------------------------
    def create_account(self, char_id: Key, initial_data: Mapping[str, Any]) -> Op:
        return Op("create_account", [("ACCOUNT.CREATE", self.key(char_id), dumps(initial_data))],
                  lambda r, s: None, target=char_id)

    def account_exists(self, char_id: Key) -> Op:
        return Op("account_exists", [("EXISTS", self.key(char_id))], lambda r, s: bool(int(r[0])),
                  on_error=False, target=char_id)

    def get_full_account(self, char_id: Key) -> Op:
        return self._read("get_full_account", char_id, "")

    def delete_account(self, char_id: Key) -> Op:
        return Op("delete_account", [("ACCOUNT.DEL", self.key(char_id))], lambda r, s: None, target=char_id)

    def get_account_field(self, char_id: Key, field_path: str) -> Op:
        path = dotted(field_path)
        if path is None:
            return self._jsonpath_read("get_account_field", char_id, field_path)
        return self._read("get_account_field", char_id, path)

    def update_account_fields(self, char_id: Key, updates: Mapping[str, Any]) -> Op:
        return self._set("update_account_fields", char_id, ((_field_path(k), v) for k, v in updates.items()))

    # ---- bio --------------------------------------------------------------------------------------
    def get_bio(self, char_id: Key) -> Op:
        return self._read("get_bio", char_id, "bio")

    def update_bio(self, char_id: Key, bio_data: Mapping[str, Any]) -> Op:
        return self._set("update_bio", char_id, [("bio", bio_data)])

    def update_bio_field(self, char_id: Key, field: str, value: Any) -> Op:
        return self._set("update_bio_field", char_id, [(f"bio.{field}", value)])

    # ---- stats ------------------------------------------------------------------------------------
    def get_stats(self, char_id: Key) -> Op:
        return self._read("get_stats", char_id, "stats")

    def update_stat(self, char_id: Key, stat_name: str, value: Mapping[str, Any]) -> Op:
        # The fields given, each by its path, in one atomic write; the fields not given keep
        # their values (the original replaced the whole vital, dropping them).
        return self._set("update_stat", char_id, ((f"stats.{stat_name}.{k}", v) for k, v in value.items()))

    def update_stat_current(self, char_id: Key, stat_name: str, value: int) -> Op:
        # SETSTAT brings the vital's regeneration up to date first and clamps into [0, max].
        return Op("update_stat_current", [("ACCOUNT.SETSTAT", self.key(char_id), stat_name, integer("value", value))],
                  lambda r, s: None, target=char_id)

    # ---- attributes -------------------------------------------------------------------------------
    def get_attributes(self, char_id: Key) -> Op:
        return self._read("get_attributes", char_id, "attributes")

    def update_attributes(self, char_id: Key, attributes: Mapping[str, int]) -> Op:
        return self._set("update_attributes", char_id, [("attributes", attributes)])

    # ---- sessions ---------------------------------------------------------------------------------
    def get_sessions(self, char_id: Key) -> Op:
        return self._read("get_sessions", char_id, "sessions")

    def set_combat_session(self, char_id: Key, session_id: Optional[str]) -> Op:
        return self._set("set_combat_session", char_id, [("sessions.combat_id", session_id)])

    def set_inventory_session(self, char_id: Key, session_id: Optional[str]) -> Op:
        return self._set("set_inventory_session", char_id, [("sessions.inventory_id", session_id)])

    # ---- scenario ---------------------------------------------------------------------------------
    def enter_scenario(self, char_id: Key, session_id: str, quest_key: str) -> Op:
        return self._state("enter_scenario", char_id, "SCENARIO", None,
                           {"sessions.scenario_id": session_id, "active_quest": quest_key}, lambda v: None)

    def leave_scenario(self, char_id: Key) -> Op:
        return self._state("leave_scenario", char_id, "EXPLORATION", None,
                           {"sessions.scenario_id": None, "active_quest": None}, lambda v: None)

    # ---- state and location -----------------------------------------------------------------------
    def get_state(self, char_id: Key) -> Op:
        return self._read("get_state", char_id, "state")

    def set_state(self, char_id: Key, state: str) -> Op:
        # The original's set_state writes the state only (prev_state untouched).
        return self._set("set_state", char_id, [("state", state)])

    def transition_to_state(self, char_id: Key, state: str) -> Op:
        return self._state("transition_to_state", char_id, state, None, None, lambda v: None)

    def get_location(self, char_id: Key) -> Op:
        return self._read("get_location", char_id, "location")

    def set_location(self, char_id: Key, location_id: str) -> Op:
        # The original's set_location writes location.current only.
        return self._set("set_location", char_id, [("location.current", location_id)])

    # ---- metrics ----------------------------------------------------------------------------------
    def get_metrics(self, char_id: Key) -> Op:
        return self._read("get_metrics", char_id, "metrics")

    def get_gear_score(self, char_id: Key) -> Op:
        op = self._read("get_gear_score", char_id, "metrics.gear_score", on_error=0)
        inner = op.parse
        op.parse = lambda r, s: _or_zero(inner(r, s))
        op.absent_value = 0
        return op

    def set_gear_score(self, char_id: Key, value: int) -> Op:
        return self._set("set_gear_score", char_id, [("metrics.gear_score", value)])

    def update_metrics(self, char_id: Key, updates: Mapping[str, Any]) -> Op:
        return self._set("update_metrics", char_id, ((f"metrics.{k}", v) for k, v in updates.items()))

    def increment_metric(self, char_id: Key, metric: str, delta: int = 1) -> Op:
        # On a refused call the original had computed 0 + delta and returned it.
        return Op("increment_metric", [("ACCOUNT.INCR", self.key(char_id), f"metrics.{metric}", integer("delta", delta))],
                  lambda r, s: _number(r[0]), on_error=delta, target=char_id)

    # ---- lobby cache ------------------------------------------------------------------------------
    def get_lobby_cache(self, user_id: Key) -> Op:
        return Op("get_lobby_cache", [("LOBBY.GETCACHE", self.lobby(user_id))], lambda r, s: loads(r[0]), target=user_id)

    def set_lobby_cache(self, user_id: Key, characters_data: Sequence[Mapping[str, Any]]) -> Op:
        args: Call = ("LOBBY.SETCACHE", self.lobby(user_id), dumps(list(characters_data)))
        if self.lobby_ttl is not None:
            args += ("EX", self.lobby_ttl)
        return Op("set_lobby_cache", [args], lambda r, s: None, target=user_id)

    def delete_lobby_cache(self, user_id: Key) -> Op:
        return Op("delete_lobby_cache", [("LOBBY.DELCACHE", self.lobby(user_id))], lambda r, s: None,
                  target=user_id)

    # ---- batch ------------------------------------------------------------------------------------
    def bulk_link_combat_session(self, char_ids: Iterable[Key], session_id: str) -> Op:
        ids = list(char_ids)
        calls: List[Call] = [("ACCOUNT.LINK", "combat", session_id, *g) for g in self.groups([self.key(c) for c in ids])]
        return Op("bulk_link_combat_session", calls, lambda r, s: None, target=ids)

    def bulk_unlink_combat_session(self, char_ids: Iterable[Key]) -> Op:
        ids = list(char_ids)
        calls: List[Call] = [("ACCOUNT.UNLINK", "combat", *g) for g in self.groups([self.key(c) for c in ids])]
        return Op("bulk_unlink_combat_session", calls, lambda r, s: None, target=ids)

    def get_accounts_json_batch(self, char_ids: Iterable[Key], path: str = "$") -> Op:
        ids = list(char_ids)
        keys = [self.key(c) for c in ids]
        p = dotted(path)
        if p is None:  # a JSONPath: one JSON.GET per key, as the original sends them
            return Op("get_accounts_json_batch", [("JSON.GET", k, path) for k in keys],
                      lambda r, s: [_first(x) for x in r], on_error=[], target=ids)
        groups = self.groups(keys)
        prefix: Call = ("ACCOUNT.MGET",) + (("PATH", p) if p else ())
        calls: List[Call] = [prefix + tuple(g) for g in groups]

        def parse(replies: List[Any], strict: bool) -> List[Any]:
            now = time.time()
            found: Dict[str, Any] = {}
            for group, reply in zip(groups, replies):
                for k, d in zip(group, reply):
                    if isinstance(d, ResponseError):
                        if strict:
                            raise translate(d)
                        found[k] = None
                    else:
                        found[k] = coherent(p, loads(d), now)
            return [found.get(k) for k in keys]

        return Op("get_accounts_json_batch", calls, parse, on_error=[], absent=frozenset({"NOPATH"}),
                  absent_value=[None] * len(ids), target=ids)

    # ---- what the module adds -------------------------------------------------------------------------
    def damage(self, char_id: Key, amount: int, stat: str = "hp") -> Op:
        return Op("damage", [("ACCOUNT.DAMAGE", self.key(char_id), integer("amount", amount), stat)], _pair, target=char_id)

    def heal(self, char_id: Key, amount: int, stat: str = "hp") -> Op:
        return Op("heal", [("ACCOUNT.HEAL", self.key(char_id), integer("amount", amount), stat)], _pair, target=char_id)

    def spend(self, char_id: Key, stat: str, amount: int) -> Op:
        return Op("spend", [("ACCOUNT.SPEND", self.key(char_id), stat, integer("amount", amount))],
                  lambda r, s: int(r[0][0]), target=char_id)

    def apply(self, char_id: Key, deltas: Mapping[str, int]) -> Op:
        args: List[Any] = ["ACCOUNT.APPLY", self.key(char_id)]
        stats = list(deltas)
        for stat in stats:
            args += [stat, integer(f"deltas[{stat!r}]", deltas[stat])]
        return Op("apply", [tuple(args)],
                  lambda r, s: {st: (int(x[0]), int(x[1])) for st, x in zip(stats, r[0])}, target=char_id)

    def regen(self, char_id: Key) -> Op:
        return Op("regen", [("ACCOUNT.REGEN", self.key(char_id))], lambda r, s: loads(r[0]), target=char_id)

    def transition_state(self, char_id: Key, new_state: str, expected: Optional[str] = None,
                         fields: Optional[Mapping[str, Any]] = None) -> Op:
        return self._state("transition_state", char_id, new_state, expected, fields, lambda v: v)

    def move(self, char_id: Key, location_id: str) -> Op:
        return Op("move", [("ACCOUNT.MOVE", self.key(char_id), location_id)], lambda r, s: text(r[0]),
                  target=char_id)

    def set_session(self, char_id: Key, kind: str, session_id: Optional[str]) -> Op:
        return Op("set_session",
                  [("ACCOUNT.SESSION", self.key(char_id), kind, "NONE" if session_id is None else session_id)],
                  lambda r, s: text(r[0]), target=char_id)

    def logout(self, char_id: Key, stream: str) -> Op:
        return Op("logout", [("ACCOUNT.LOGOUT", self.key(char_id), stream)], lambda r, s: text(r[0]),
                  target=char_id)

    def restore_session(self, char_id: Key, doc: Union[str, Mapping[str, Any]], offline_regen: bool = False,
                        vitals_section: str = "stats") -> Op:
        body = restart_clocks(doc, vitals_section) if not offline_regen else (doc if isinstance(doc, str) else dumps(doc))
        return Op("restore_session", [("ACCOUNT.CREATE", self.key(char_id), body, "NX")],
                  lambda r, s: r[0] is not None, on_error=False, target=char_id)


def restart_clocks(doc: Union[str, Mapping[str, Any]], vitals_section: str = "stats") -> str:
    """The document as JSON text with every vital's regeneration clock (``since``) cleared: the
    module's CREATE starts a cleared clock at the server's now, so the time the character spent
    logged out earns nothing."""
    d: Any = json.loads(doc) if isinstance(doc, str) else copy.deepcopy(dict(doc))
    section = d.get(vitals_section) if isinstance(d, dict) else None
    if isinstance(section, dict):
        for v in section.values():
            if isinstance(v, dict) and "since" in v:
                v["since"] = None
    return dumps(d)


def _pair(r: List[Any], strict: bool) -> Tuple[int, int]:
    return int(r[0][0]), int(r[0][1])


def _number(v: Any) -> Any:
    """An integer reply, or a number sent as text (a float metric): int when integral."""
    if isinstance(v, (int, float)):
        return v
    t = text(v)
    try:
        return int(t)
    except ValueError:
        return float(t)


def _or_zero(v: Any) -> Any:
    return 0 if v is None else v


def _field_path(path: str) -> str:
    """An ``update_account_fields`` key as a dotted path (the original wrote ``$.<key>``)."""
    p = dotted(path)
    return path if not p else p


#: The original class's public methods, in the order it declares them.
ORIGINAL_METHODS = (
    "create_account", "account_exists", "get_full_account", "delete_account", "get_account_field",
    "update_account_fields", "get_bio", "update_bio", "update_bio_field", "get_stats", "update_stat",
    "update_stat_current", "get_attributes", "update_attributes", "get_sessions", "set_combat_session",
    "set_inventory_session", "enter_scenario", "leave_scenario", "get_state", "set_state",
    "transition_to_state", "get_location", "set_location", "get_metrics", "get_gear_score",
    "set_gear_score", "update_metrics", "increment_metric", "get_lobby_cache", "set_lobby_cache",
    "delete_lobby_cache", "bulk_link_combat_session", "bulk_unlink_combat_session",
    "get_accounts_json_batch",
)
#: What the module adds.
EXTRA_METHODS = ("damage", "heal", "spend", "apply", "regen", "transition_state", "move", "set_session", "logout",
                 "restore_session")
