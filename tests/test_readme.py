"""Every example in README.md runs as written (issue 11, item 7).

Python blocks run in a fresh interpreter from the repository root (the embedded defaults and
config.example.yaml: every backend a simulator); bash blocks run with this virtualenv's
`eval-gateway` on PATH; YAML blocks that configure backends must be valid configs. A block
that truly cannot run here opts out with a first-lines comment `# not run: <why>`. The blocks
are read when the tests are collected, so sections others add are held to this too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gateway import load_config

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
OPT_OUT = re.compile(r"^\s*#\s*not run\b.*$", re.MULTILINE)
TIMEOUT = 120.0


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int
    heading: str

    @property
    def opted_out(self) -> bool:
        head = "\n".join(self.code.splitlines()[:3])
        return OPT_OUT.search(head) is not None

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.heading})"


def blocks(language: str) -> list[Block]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) != language:
            continue
        before = text[: match.start()]
        headings = re.findall(r"^#+ (.+)$", before, re.MULTILINE)
        line = before.count("\n") + 1
        found.append(Block(language, match.group(2), line, headings[-1] if headings else "top"))
    return found


def ids(found: list[Block]) -> list[str]:
    return [
        f"line{b.line}-{re.sub(r'[^a-z0-9]+', '-', b.heading.lower()).strip('-')}" for b in found
    ]


def run(argv: list[str], block: Block) -> None:
    if block.opted_out:
        marker = OPT_OUT.search(block.code)
        pytest.skip(f"{block} opts out: {marker.group(0).strip() if marker else ''}")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in ("EVAL_GATEWAY_URL", "EVAL_GATEWAY_API_KEY", "EVAL_GATEWAY_CONFIG"):
        env.pop(name, None)
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{block} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"


PYTHON, BASH, YAML = blocks("python"), blocks("bash"), blocks("yaml")


def test_the_readme_has_runnable_examples() -> None:
    runnable = [b for b in PYTHON + BASH if not b.opted_out]
    assert any(b.language == "python" for b in runnable), "the library example must run"
    assert any(b.language == "bash" for b in runnable), "some shell example must run"


@pytest.mark.parametrize("block", PYTHON, ids=ids(PYTHON))
def test_python_example_runs(block: Block) -> None:
    run([sys.executable, "-c", block.code], block)


@pytest.mark.parametrize("block", BASH, ids=ids(BASH))
def test_shell_example_runs(block: Block) -> None:
    run(["bash", "-euo", "pipefail", "-c", block.code], block)


@pytest.mark.parametrize("block", YAML, ids=ids(YAML))
def test_config_example_is_a_valid_config(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load(block.code)
    if not isinstance(data, dict) or "backends" not in data:
        pytest.skip(f"{block} is not a whole config")
    for name in set(re.findall(r"\$\{(\w+)\}", block.code)):
        monkeypatch.setenv(name, "example-value")  # secrets are ${VAR} references
    path = tmp_path / "readme.yaml"
    path.write_text(block.code, encoding="utf-8")
    config = load_config(path)
    assert set(config.backends) == set(data["backends"])
