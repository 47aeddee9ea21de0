"""Where each vendor's cassettes live: cassettes/<vendor>/ at the repository root."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cassette_dir(vendor: str) -> str:
    """Use in a test module: `vcr_cassette_dir = fixture returning cassette_dir("overmind")`."""
    return str(ROOT / "cassettes" / vendor)
