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
