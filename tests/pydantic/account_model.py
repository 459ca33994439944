"""A pydantic v2 model with the fields and types of the original game's account document
(AccountContextDTO, as NOTES.md describes it), written for these tests. Printing its
`model_json_schema()` gives the schema pydantic emits for such a model: the test loads it into
the module as the game would load its own.

    python account_model.py            # the schema as pydantic emits it
    python account_model.py --vitals   # the same, with the vitals marked (x-vital)
    python account_model.py --pattern  # location ids constrained by a pattern (StringConstraints)
"""
import json
import sys
from enum import StrEnum
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel, ConfigDict, StringConstraints

MARK = "--vitals" in sys.argv
# A game that constrains its location ids ("52_52"): pydantic emits `pattern`.
LocationId = Annotated[str, StringConstraints(pattern=r"^\d+_\d+$")] if "--pattern" in sys.argv else str


class GameState(StrEnum):
    EXPLORATION = "exploration"
    INVENTORY = "inventory"
    STATUS = "status"
    COMBAT = "combats"
    SCENARIO = "scenario"
    ONBOARDING = "onboarding"
    LOBBY = "lobby"
    ARENA = "arena"
    COMBAT_ENTRY = "combat_entry"
    MENU = "game_menu"


class Bio(TypedDict):
    name: str | None
    gender: str | None
    created_at: str | None


class Location(TypedDict):
    current: LocationId
    prev: LocationId | None


class Vital(TypedDict):
    # How a game marks a vital from pydantic: json_schema_extra on the TypedDict's config.
    __pydantic_config__ = ConfigDict(json_schema_extra={"x-vital": True} if MARK else None)  # type: ignore[misc]
    cur: int
    max: int
    regen: float


class Stats(TypedDict):
    hp: Vital
    mp: Vital
    stamina: Vital
    last_update: float | None


class Attributes(TypedDict):
    strength: int
    agility: int
    endurance: int
    intelligence: int
    wisdom: int
    men: int
    perception: int
    charisma: int
    luck: int


class Sessions(TypedDict):
    combat_id: str | None
    inventory_id: str | None
    scenario_id: str | None


class Metrics(TypedDict, total=False):
    gear_score: int
    arena_rating: int
    arena_wins: int
    arena_losses: int
    win_streak: int


class AccountContext(BaseModel):
    state: GameState
    prev_state: GameState | None = None
    bio: Bio
    location: Location
    stats: Stats
    attributes: Attributes
    sessions: Sessions
    metrics: Metrics
    skills: dict[str, Any] = {}


if __name__ == "__main__":
    print(json.dumps(AccountContext.model_json_schema()))
