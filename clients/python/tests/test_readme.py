"""The package README's Quickstart, run as printed (against a server started for the test instead
of 127.0.0.1:6379), its output checked against the comments it prints them with."""
from __future__ import annotations

import contextlib
import io
import os
import re

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def quickstart() -> str:
    text = open(README).read()
    section = text.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_quickstart_runs_as_printed(server):
    code = quickstart()
    assert 'port=6379' in code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace("port=6379", f"port={server.port}"), "README.md", "exec"), {"__name__": "__main__"})
    lines = out.getvalue().splitlines()
    assert lines[0] == "SCENARIO awakening_rift"
    assert lines[1] == "(70, 30)"
    hp, last_update = lines[2].split()
    assert hp == "70" and float(last_update) > 1.7e9
    assert re.fullmatch(r"\[\{'name': 'Aragorn', .*\}, 1, 0\]", lines[3]), lines[3]
    assert len(lines) == 4


ROOT_README = os.path.join(os.path.dirname(__file__), "..", "..", "..", "README.md")


def test_the_root_readme_snippet_runs_as_printed_in_the_default_mode(server):
    """The root README's AccountManager snippet, default mode (no raise_errors): every print's
    output is the comment line under it, refused calls (a missing account, a state conflict)
    included."""
    text = open(ROOT_README).read()
    code = re.search(r"```python\n(import asyncio\n.*?)```", text, re.S).group(1)
    assert "raise_errors" not in code and "port=6379" in code
    lines = code.splitlines()
    expected = []
    for i, line in enumerate(lines):
        if line.strip().startswith("print("):
            j = i + 1
            while not lines[j].strip().startswith("# "):
                j += 1
            expected.append(lines[j].strip()[2:])
    assert len(expected) == 7
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace("port=6379", f"port={server.port}"), "README.md", "exec"), {"__name__": "__main__"})
    assert out.getvalue().splitlines() == expected


def _logout_section() -> str:
    return open(ROOT_README).read().split("## Logout handoff", 1)[1].split("\n## ", 1)[0]


async def test_the_root_readme_worker_and_login_run_as_printed(server, postgres):
    """The README's logout section: its worker command line, run as printed (the URL and the DSN
    pointed at this test's server and PostgreSQL), creates the printed table and saves every
    logged-out session; its login function restores the saved session."""
    import asyncio
    import shlex
    import subprocess
    import sys

    import asyncpg
    import redis.asyncio as aioredis

    from redis_account import AccountManager

    section = _logout_section()
    cmd = re.search(r"```sh\n(.*?)```", section, re.S).group(1).replace("\\\n", " ")
    table_sql = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    login_code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    argv = shlex.split(cmd)
    assert argv[:3] == ["python", "-m", "redis_account.worker"], argv
    argv[0] = sys.executable
    argv[argv.index("--redis") + 1] = f"redis://127.0.0.1:{server.port}"
    argv[argv.index("--dsn") + 1] = postgres.dsn
    pg = await asyncpg.connect(postgres.dsn)
    await pg.execute("DROP TABLE IF EXISTS account_sessions")
    r = aioredis.Redis(port=server.port, decode_responses=True)
    am = AccountManager(r)
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "src"))
    worker = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for i in (1, 2, 3):
            await am.create_account(i, {"bio": {"name": f"c{i}", "gender": "male"}})
            await am.damage(i, 10 * i)
            assert await am.logout(i, "logouts") is not None
        saved = []
        for _ in range(300):
            try:
                saved = await pg.fetch("SELECT char_id, reason FROM account_sessions ORDER BY char_id")
            except asyncpg.UndefinedTableError:
                saved = []
            if len(saved) == 3:
                break
            await asyncio.sleep(0.05)
        assert [tuple(x) for x in saved] == [(1, "logout"), (2, "logout"), (3, "logout")]
        # The table the worker made has the printed columns, in order.
        printed = re.findall(r"^\s+(\w+)\s+(bigint|jsonb|text|timestamptz)", table_sql, re.M)
        made = await pg.fetch("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_name = 'account_sessions' ORDER BY ordinal_position")
        names = {"bigint": "bigint", "jsonb": "jsonb", "text": "text", "timestamptz": "timestamp with time zone"}
        assert [(m["column_name"], m["data_type"]) for m in made] == [(n, names[t]) for n, t in printed]
        for _ in range(100):  # acknowledged once committed
            groups = await r.execute_command("XINFO", "GROUPS", "logouts")
            if groups and dict(zip(groups[0][0::2], groups[0][1::2]))["pending"] == 0:
                break
            await asyncio.sleep(0.05)
        assert dict(zip(groups[0][0::2], groups[0][1::2]))["pending"] == 0
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    # Login, as printed.
    scope: dict = {}
    exec(compile(login_code, "README.md", "exec"), scope)
    await scope["login"](am, pg, 2)
    assert (await am.get_stats(2))["hp"]["cur"] == 80
    assert (await am.get_bio(2))["name"] == "c2"
    await scope["login"](am, pg, 404)  # never saved: nothing restored
    assert await r.exists("ac:404") == 0
    await pg.close()
    await r.aclose()
