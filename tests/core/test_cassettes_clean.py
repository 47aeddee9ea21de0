"""Recorded vendor traffic never holds a credential."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

CASSETTES = sorted((Path(__file__).resolve().parents[2] / "cassettes").rglob("*.yaml"))
SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie"}


def test_every_vendor_has_cassettes() -> None:
    vendors = {p.relative_to(p.parents[1]).parts[0] for p in CASSETTES}
    assert vendors >= {
        "llama-stack",
        "nemo-evaluator",
        "overmind",
        "digitalocean-genai",
        "datarobot-genai",
    }


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cassette_holds_no_credential(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"(?i)(sim-key|ovr_|bearer\s+[a-z0-9]{8,}|token\s+[a-z0-9]{8,})", text)
    for interaction in yaml.safe_load(text).get("interactions", []):
        for part in ("request", "response"):
            for name, values in (interaction[part].get("headers") or {}).items():
                if name.lower() in SECRET_HEADERS:
                    assert values == ["REDACTED"], f"{name} recorded in {path.name}"
