"""The README's remote-client example, run as written against a real gateway (it is marked
`# not run` for the README runner, which has no server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.client.conftest import KEY
from tests.server.proc import Proc

MARK = "# not run: needs a running gateway"


def remote_client_example() -> str:
    readme = Path("README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Remote client") :]
    block = str(re.findall(r"```python\n(.*?)```", section, re.S)[0])
    assert block.startswith(MARK)
    return block


def test_the_readme_example_runs_against_a_gateway(
    remote: Proc, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVAL_GATEWAY_API_KEY", KEY)
    code = remote_client_example().replace("http://127.0.0.1:8080", remote.url)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("queued") and out[-2].startswith("succeeded")
    assert "bleu" in out[-1]
