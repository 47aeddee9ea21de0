"""A throwaway PostgreSQL cluster for the ledger benchmark (Debian's binaries, loopback only).

PostgreSQL refuses to run as root; as root the commands run as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .procs import free_port

SYSTEM_USER = "postgres"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found[-1]).parent


def _run(*args: str) -> None:
    prefix = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster in a temporary directory; yields an asyncpg URL of its database."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="ledger-bench-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SYSTEM_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, port = root / "data", free_port()
    try:
        _run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--no-sync", "-E", "UTF8")  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        _run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
             "-l", str(root / "server.log"), "-w", "start")  # fmt: skip
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
