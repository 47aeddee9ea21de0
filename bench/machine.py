"""What the benchmark ran on: CPU, cores, memory, OS, Python and the versions that matter."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

PACKAGES = (
    "eval-gateway",
    "uvicorn",
    "uvloop",
    "httptools",
    "starlette",
    "httpx",
    "httpcore",
    "aiohttp",
    "pydantic",
    "pydantic-core",
    "anyio",
    "sniffio",
    "redis",
    "matplotlib",
)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    match = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    return round(int(match.group(1)) / 1024**2, 1) if match else 0.0


def _version_of(argv: list[str], pattern: str) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(pattern, done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{' (src/ modified)' if dirty else ''}" if rev else "unknown"


def describe(root: Path) -> dict[str, str]:
    os_name = "unknown"
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)', _read("/etc/os-release"), re.MULTILINE)
    if match:
        os_name = match.group(1)
    info = {
        "CPU": cpu_model(),
        "cores (online)": str(os.cpu_count()),
        "memory": f"{memory_gib()} GiB",
        "OS": f"{os_name}, Linux {platform.release()}",
        "virtualisation": _virt(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "eval-gateway revision": git_revision(root),
        "nginx": _version_of(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": _version_of(["wrk", "--version"], r"wrk (\S+)"),
        "redis-server": _version_of(["redis-server", "--version"], r"v=(\S+)"),
    }
    for name in PACKAGES:
        info[name] = package_version(name)
    return info


def _virt() -> str:
    """The hypervisor (from lscpu) and the container (systemd-detect-virt), where known."""
    parts: list[str] = []
    lscpu = _version_of(["lscpu"], r"Hypervisor vendor:\s*(\S+)")
    if lscpu not in ("unknown", "not installed"):
        parts.append(f"{lscpu} guest")
    elif " hypervisor" in _read("/proc/cpuinfo"):
        parts.append("a hypervisor guest")
    container = _version_of(["systemd-detect-virt", "--container"], r"^(\S+)")
    if container not in ("unknown", "not installed", "none"):
        parts.append(f"in a {container} container")
    return ", ".join(parts) or "none seen"
