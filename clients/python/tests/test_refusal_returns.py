"""The package README lists, per method, what the default mode (no raise_errors) returns when the
server refuses the call: each listed value is read from the README and checked here against a
real refusal (the account and lobby keys hold a hash: WRONGTYPE)."""

from __future__ import annotations

import os
import re

PKG_README = os.path.join(os.path.dirname(__file__), "..", "README.md")

ARGS = {
    "create_account": (1, {"bio": {"name": 5}}),  # SCHEMA: refused by the schema
    "get_full_account": (1,), "delete_account": (1,), "get_account_field": (1, "bio.name"),
    "update_account_fields": (1, {"bio.name": "A"}), "get_bio": (1,), "update_bio": (1, {"name": "A"}),
    "update_bio_field": (1, "name", "A"), "get_stats": (1,), "update_stat": (1, "hp", {"cur": 1}),
    "update_stat_current": (1, "hp", 1), "get_attributes": (1,), "update_attributes": (1, {"luck": 1}),
    "get_sessions": (1,), "set_combat_session": (1, "c"), "set_inventory_session": (1, "i"),
    "enter_scenario": (1, "s", "q"), "leave_scenario": (1,), "get_state": (1,), "set_state": (1, "X"),
    "transition_to_state": (1, "X"), "get_location": (1,), "set_location": (1, "x"), "get_metrics": (1,),
    "get_gear_score": (1,), "set_gear_score": (1, 3), "update_metrics": (1, {"arena_wins": 1}),
    "increment_metric": (1, "arena_wins", 5), "get_lobby_cache": (1,), "set_lobby_cache": (1, []),
    "delete_lobby_cache": (1,), "bulk_link_combat_session": ([1], "c"), "bulk_unlink_combat_session": ([1],),
    "get_accounts_json_batch": ([1], "bio"), "damage": (1, 5), "heal": (1, 5), "spend": (1, "mp", 5),
    "apply": (1, {"hp": -5}), "regen": (1,), "transition_state": (1, "X"), "move": (1, "x"),
    "set_session": (1, "combat", "c"), "logout": (1, "logouts"),
}
VALUES = {"`None`": None, "`False`": False, "`0`": 0, "`[]`": [], "`delta`": 5,
          "`None` per refused key (`[]` when the whole call is refused)": [None]}


def documented() -> dict[str, object]:
    out: dict[str, object] = {}
    for line in open(PKG_README).read().split("## Methods", 1)[1].split("\n## ", 1)[0].splitlines():
        cols = line.split(" | ")
        if not re.match(r"\| `[a-z_]+\(", line) or len(cols) < 3:
            continue
        names = re.findall(r"`([a-z_]+)\(", cols[0])
        refused = cols[2].rstrip(" |").split(" / ")
        for i, name in enumerate(names):
            out[name] = refused[min(i, len(refused) - 1)]
    return out


async def test_each_documented_refusal_return_is_what_the_default_mode_returns(am, r):
    doc = documented()
    assert len(doc) >= 40
    checked = 0
    for name, text in doc.items():
        if name in ("pipeline", "account_exists"):  # no call to refuse / EXISTS never refuses a type
            continue
        await r.flushall()
        if name != "create_account":
            await r.hset("ac:1", "x", "1")
        await r.hset("lobby_session:1", "x", "1")
        got = await getattr(am, name)(*ARGS[name])
        assert got == VALUES[text], (name, got, text)
        checked += 1
    assert checked == len(doc) - 2
    # The whole batch refused (more than 1000 keys in one call: LIMIT): [].
    assert await am.get_accounts_json_batch(["{t}%d" % i for i in range(1001)], "bio") == []
