"""The benchmark's profile summary counts work, not threads that wait (bench/profile.py)."""

from __future__ import annotations

from pathlib import Path

from bench.profile import summarize


def test_a_blocked_aiosqlite_worker_thread_is_no_busy_sample(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "main (x.py:1);RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:9) 30\n"
        "Thread.run (threading.py:982);_connection_worker_thread (aiosqlite/core.py:59) 70\n"
    )
    summary = summarize(raw)
    assert summary["samples"] == 30
    assert summary["stages"] == [("uvicorn + httptools (HTTP server protocol)", 100.0)]
