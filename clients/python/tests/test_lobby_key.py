"""One lobby key name (issue 24 item 6): the client's default is the name every CLI example in
the README, docs/commands.md and the transcripts uses, so a cache set from Python reads back from
the documented CLI command."""

from __future__ import annotations

import pathlib
import re

from redis_account import AccountManager

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", ROOT / "docs" / "commands.md", *sorted((ROOT / "tests" / "transcripts").glob("*.txt"))]


def test_every_documented_lobby_key_is_the_clients_default():
    default = AccountManager.__init__.__kwdefaults__["lobby_key"]
    assert default == "lobby_session:{user_id}"
    prefix = default.split("{")[0]
    seen = 0
    for path in DOCS:
        for line in path.read_text().splitlines():
            # The original's design document's name is mentioned, as such, where it differs.
            if "design document" in line:
                continue
            for key in re.findall(r"lobby[a-z_]*:[a-z_]*", line):
                if key.startswith("lobby:user") or key.startswith("lobby_session"):
                    assert key.startswith(prefix), f"{path.name}: {line}"
                    seen += 1
    assert seen >= 20


async def test_a_cache_set_from_python_reads_from_the_documented_cli_key(am, r):
    data = [{"character_id": 7, "user_id": 123, "name": "Aragorn"}]
    await am.set_lobby_cache(123, data)
    assert await r.execute_command("LOBBY.GETCACHE", "lobby_session:123") == (
        '[{"character_id":7,"user_id":123,"name":"Aragorn"}]'
    )
    assert await r.execute_command("LOBBY.GETCACHE", "lobby:user:123") is None
