"""The README's quick start runs as written against the real gateway."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from conftest import Running

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quick_start_runs(gateway: Running) -> None:
    text = README.read_text()
    section = text[text.index("## Quick start"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the quick start has no python block"
    source = code.group(1)
    assert len([line for line in source.splitlines() if line.strip()]) <= 10, "the quick start is ten lines at most"
    source = source.replace("http://127.0.0.1:8080", gateway.url).replace("<admin token>", gateway.admin_token)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(README), "exec"), {})
    printed = out.getvalue()
    assert "Hello! You said: Hello!" in printed and " demo\n" in printed, printed
    assert printed.splitlines()[1].startswith("key,model,day,requests"), printed
