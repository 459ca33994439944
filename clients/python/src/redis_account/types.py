"""The account document's sections as TypedDicts, with the names and fields the original
AccountManager's schema module declares (``BioDict``, ``LocationDict``, ``VitalsDict``,
``StatsDict``, ``AttributesDict``, ``SessionsDict``, ``MetricsDict``), so code typed against the
original keeps type-checking. What the module adds is declared as optional keys.

Only ``Optional``/``Union`` spellings are used so that the classes also evaluate on Python 3.9
(pydantic evaluates TypedDict annotations at run time).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict, Union


class BioDict(TypedDict):
    name: Optional[str]
    gender: Optional[str]
    created_at: Optional[str]


class LocationDict(TypedDict):
    current: str
    prev: Optional[str]


class _VitalsRequired(TypedDict):
    cur: int
    max: int
    regen: float  # units per second


class VitalsDict(_VitalsRequired, total=False):
    # The module's per-vital regeneration clock (unix seconds) for the ``cur`` it is read with.
    since: Optional[float]


class StatsDict(TypedDict):
    hp: VitalsDict
    mp: VitalsDict
    stamina: VitalsDict
    # Unix seconds at which the vitals above are current (see the package README, "Regeneration").
    last_update: Optional[float]


class AttributesDict(TypedDict):
    strength: int
    agility: int
    endurance: int
    intelligence: int
    wisdom: int
    men: int
    perception: int
    charisma: int
    luck: int


class SessionsDict(TypedDict):
    combat_id: Optional[str]
    inventory_id: Optional[str]
    scenario_id: Optional[str]


class MetricsDict(TypedDict, total=False):
    gear_score: int
    arena_rating: int
    arena_wins: int
    arena_losses: int
    win_streak: int


class _AccountRequired(TypedDict):
    state: str
    prev_state: Optional[str]
    bio: BioDict
    location: LocationDict
    stats: StatsDict
    attributes: AttributesDict
    sessions: SessionsDict
    metrics: MetricsDict
    skills: Dict[str, Any]


class AccountDict(_AccountRequired, total=False):
    """The whole ``ac:{char_id}`` document (the original's ``AccountContextDTO`` as a dict).
    ``active_quest`` is what the original's ``enter_scenario`` writes."""

    active_quest: Optional[str]


class _LobbyCharacterRequired(TypedDict):
    character_id: int
    user_id: int


class LobbyCharacterDict(_LobbyCharacterRequired, total=False):
    """One entry of the lobby cache (the original's ``CharacterReadDTO`` dumped as JSON)."""

    name: Optional[str]
    gender: Optional[str]
    game_stage: Optional[str]
    prev_game_stage: Optional[str]
    location_id: str
    prev_location_id: Optional[str]
    vitals_snapshot: Optional[Dict[str, Any]]
    active_sessions: Optional[Dict[str, Any]]
    created_at: Optional[str]
    updated_at: Optional[str]


JSONValue = Union[None, bool, int, float, str, List[Any], Dict[str, Any]]

__all__ = [
    "AccountDict",
    "AttributesDict",
    "BioDict",
    "JSONValue",
    "LobbyCharacterDict",
    "LocationDict",
    "MetricsDict",
    "SessionsDict",
    "StatsDict",
    "VitalsDict",
]
