"""Checked by ``make mypy`` (not run): the returns are typed as the original's schema declares
them, so code written against the original's TypedDicts type-checks unchanged."""
from __future__ import annotations

from typing import List, Optional

from redis_account import AccountDict, AccountManager, AttributesDict, LobbyCharacterDict, StatsDict


async def hud_values(am: AccountManager, char_id: int) -> tuple[int, int, str]:
    doc: Optional[AccountDict] = await am.get_full_account(char_id)
    assert doc is not None
    stats: StatsDict = doc["stats"]
    last: Optional[float] = stats["last_update"]
    assert last is not None
    name = doc["bio"]["name"] or "Unknown"
    return stats["hp"]["cur"], stats["hp"]["max"], name


async def other_reads(am: AccountManager, char_id: int, user_id: int) -> int:
    attrs: Optional[AttributesDict] = await am.get_attributes(char_id)
    lobby: Optional[List[LobbyCharacterDict]] = await am.get_lobby_cache(user_id)
    gs: int = await am.get_gear_score(char_id)
    wins: int = await am.increment_metric(char_id, "arena_wins")
    batch: List[object] = await am.get_accounts_json_batch([char_id], "vitals")
    exists: bool = await am.account_exists(char_id)
    return (attrs["luck"] if attrs else 0) + len(lobby or []) + gs + wins + len(batch) + int(exists)
