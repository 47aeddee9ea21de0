"""Processes the harness starts: each in its own session, all stopped on the way out.

`Stack` is a context manager: every process started through it is stopped (SIGTERM to its
whole process group, then SIGKILL) when the block ends, on success, on an exception, on
Ctrl-C and on SIGTERM. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent  # the repository: `python -m bench...` runs here
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


class StartError(RuntimeError):
    """A process did not come up; the message carries the tail of its log."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """One GET on loopback: (status, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_post(port: int, path: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Proc:
    """One started process (the leader of its own process group)."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_path: str

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[int]:
        """This process and every descendant (uvicorn workers, nginx workers)."""
        return [self.pid, *descendants(self.pid)]

    def rss_bytes(self) -> int:
        """Resident set size of the whole tree (shared pages counted once per process)."""
        return sum(rss_of(pid) for pid in self.tree())

    def pss_bytes(self) -> int:
        """Proportional set size of the tree: shared pages split between the processes."""
        return sum(pss_of(pid) for pid in self.tree())

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def loaded_libraries(self) -> set[str]:
        """Shared objects mapped by the tree's processes (to see uvloop/httptools in use)."""
        found: set[str] = set()
        for pid in self.tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                    parts = line.split()
                    if len(parts) >= 6 and ".so" in parts[5]:
                        found.add(parts[5])
        return found


def rss_of(pid: int) -> int:
    """VmRSS of one process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pss_of(pid: int) -> int:
    """Pss of one process in bytes (0 once it is gone or where smaps_rollup is missing)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc/*/stat parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(children.get(child, []))
    return out


@dataclass
class Stack:
    """Starts processes and guarantees they are all stopped when the block ends."""

    workdir: Path
    procs: list[Proc] = field(default_factory=list)
    _old_handlers: dict[int, object] = field(default_factory=dict)

    def __enter__(self) -> Stack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, _raise_exit)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        ready_path: str = "/",
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> Proc:
        log = self.workdir / f"{name}.log"
        handle = log.open("wb")
        try:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=ROOT,
                start_new_session=True,  # its own process group: stopped as one
            )
        finally:
            handle.close()
        proc = Proc(name, popen, port, log, ready_path)
        self.procs.append(proc)
        if wait:
            self.wait_ready(proc)
        return proc

    def wait_ready(self, proc: Proc, timeout: float = 60.0) -> None:
        """Until `ready_path` answers 200 (or the process dies: StartError with its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                raise StartError(f"{proc.name} exited at start:\n{proc.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = http_get(proc.port, proc.ready_path, timeout=2.0)
                if status == 200:
                    return
            time.sleep(0.05)
        raise StartError(f"{proc.name} not ready after {timeout:g}s:\n{proc.log_tail()}")

    def stop(self, proc: Proc) -> None:
        """SIGTERM the process group, SIGKILL what is left after the grace period."""
        if proc.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(STOP_GRACE)
        # The leader may be gone while its group (workers) lingers: kill the group anyway.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(STOP_GRACE)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            try:
                self.stop(proc)
            except Exception as exc:  # keep stopping the others
                print(f"bench: could not stop {proc.name}: {exc}", file=sys.stderr)


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def stack(workdir: Path) -> Iterator[Stack]:
    with Stack(workdir) as s:
        yield s


# -- CPU accounting: how much of the machine others used during a measurement ---------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> int:
    """Busy jiffies of all CPUs since boot (user+nice+system+irq+softirq+steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


def _proc_ticks(pid: int, children: bool = False) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def tree_cpu_seconds(proc: Proc) -> float:
    """CPU seconds (user + system) used so far by the live processes of `proc`'s tree."""
    return sum(_proc_ticks(pid) for pid in proc.tree()) / _TICKS


def _own_ticks() -> int:
    """CPU of this harness, its reaped children (wrk) and every live descendant (servers)."""
    me = os.getpid()
    return _proc_ticks(me, children=True) + sum(_proc_ticks(p) for p in descendants(me))


@dataclass
class CpuMeter:
    """Cores used by processes other than the harness's own between start() and stop()."""

    began: float = 0.0
    busy: int = 0
    own: int = 0

    def start(self) -> CpuMeter:
        self.began, self.busy, self.own = time.monotonic(), _busy_ticks(), _own_ticks()
        return self

    def stop(self) -> float:
        elapsed = time.monotonic() - self.began
        if elapsed <= 0:
            return 0.0
        others = (_busy_ticks() - self.busy) - (_own_ticks() - self.own)
        return round(max(0.0, others / _TICKS / elapsed), 2)


def background_cores(seconds: float = 1.0) -> float:
    """Cores others use right now (sampled over `seconds`)."""
    meter = CpuMeter().start()
    time.sleep(seconds)
    return meter.stop()


def wait_for_quiet(threshold: float, max_wait: float) -> float:
    """Until others use under `threshold` cores (sampled per second), at most `max_wait` s."""
    deadline = time.monotonic() + max_wait
    seen = background_cores(0.5)
    while seen > threshold and time.monotonic() < deadline:
        seen = background_cores(1.0)
    return seen
