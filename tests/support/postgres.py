"""A throwaway PostgreSQL cluster for the tests that need one (the ledger on PostgreSQL).

Debian's binaries (/usr/lib/postgresql/<version>/bin) make a cluster in a temporary
directory, listening on a free loopback port with its unix socket in that directory; the
cluster is stopped and deleted at the end of the session. PostgreSQL refuses to run as root,
so as root the commands run as the `postgres` system user. Without the binaries the tests
skip, or fail when the environment variable CI is set.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.servers import free_port

SYSTEM_USER = "postgres"
START_SECONDS = 60


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


def _as_owner() -> list[str]:
    """The prefix that runs a command as a user PostgreSQL accepts (not root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SYSTEM_USER, "--"]


@dataclass
class PostgresCluster:
    bin_dir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> None:
        subprocess.run(
            [*_as_owner(), *args], check=True, capture_output=True, timeout=START_SECONDS
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self.run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "-t", str(START_SECONDS), "start",
        )  # fmt: skip

    def stop(self) -> None:
        self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        asyncio.run(self._execute(f'CREATE DATABASE "{name}"'))
        return self.url(name)

    async def _execute(self, statement: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs Debian's postgresql)")
    pytest.skip(f"{reason} (install Debian's postgresql to run these)")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        _missing("PostgreSQL's initdb is not installed here")
    assert bin_dir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _missing("running as root needs runuser to start PostgreSQL as its own user")
    root = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SYSTEM_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    os.chmod(root, 0o700)
    cluster = PostgresCluster(bin_dir, root, free_port())
    try:
        cluster.run(
            str(bin_dir / "initdb"), "-D", str(cluster.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        cluster.start()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')[-2000:]}")
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
