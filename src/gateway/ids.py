"""Gateway job ids: one URL-safe, readable path segment that addresses a job again.

Grammar::

    job_id := backend "~" part ("~" part)*
    part   := 1*( ALPHA / DIGIT / "-" / "." / "_" / "!" HEX HEX )

`backend` is the backend's config name (never an alias, so an id keeps pointing at the
vendor that holds the job). Each part is one vendor identifier, in the order the vendor's
adapter declares (`Adapter.id_parts`): Llama Stack `benchmark_id~job_id`, NeMo `job_id`,
Overmind `job_id`, DigitalOcean `evaluation_run_uuid`, DataRobot `genai|classic~status_id`.
Bytes outside the plain set are written `!XX` (UTF-8, upper-case hex), so an id never holds
`/` or `%` and survives any HTTP client and router unchanged.

Examples: `ls-dev~mmlu~0`, `nemo-prod~eval-UVW123XYZ456`, `ls~nvidia!2Fmmlu~eval-1`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gateway.errors import InvalidRequest

SEPARATOR = "~"
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._")
_BACKEND_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_PART_RE = re.compile(r"(?:[A-Za-z0-9._-]|![0-9A-F]{2})+")
MAX_ID_LENGTH = 1024


def escape_part(value: str) -> str:
    """Escape one vendor identifier for use inside a job id."""
    out: list[str] = []
    for char in value:
        if char in _PLAIN:
            out.append(char)
        else:
            out.extend(f"!{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def unescape_part(part: str) -> str:
    """Inverse of `escape_part`; the part must already match the grammar."""
    if "!" not in part:
        return part  # the common case: nothing escaped
    raw = bytearray()
    i = 0
    while i < len(part):
        if part[i] == "!":
            raw.append(int(part[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(part[i].encode("ascii"))
            i += 1
    return raw.decode("utf-8")


@dataclass(frozen=True, slots=True)
class JobRef:
    """A parsed job id: the backend and the vendor identifiers, unescaped."""

    backend: str
    parts: tuple[str, ...]

    def __str__(self) -> str:
        return format_job_id(self.backend, *self.parts)


def format_job_id(backend: str, *parts: str) -> str:
    """Build the gateway job id for a job a vendor knows by `parts`.

    >>> format_job_id("ls-dev", "mmlu", "0")
    'ls-dev~mmlu~0'
    """
    if not _BACKEND_RE.fullmatch(backend):
        raise InvalidRequest(f"backend name {backend!r} is not a valid backend name")
    if not parts or any(not isinstance(p, str) or p == "" for p in parts):
        raise InvalidRequest("a job id needs at least one non-empty vendor identifier")
    return SEPARATOR.join([backend, *(escape_part(p) for p in parts)])


def parse_job_id(job_id: str) -> JobRef:
    """Parse a gateway job id; a malformed one is an `InvalidRequest`."""
    if not isinstance(job_id, str):
        raise InvalidRequest("job id must be a string")
    return _parse(job_id)


@functools.lru_cache(maxsize=4096)  # a JobRef is immutable; library reads and polls parse again
def _parse(job_id: str) -> JobRef:
    if not job_id or len(job_id) > MAX_ID_LENGTH:
        raise InvalidRequest("job id is empty or too long", job_id=_shown(job_id))
    backend, sep, rest = job_id.partition(SEPARATOR)
    if not sep or not _BACKEND_RE.fullmatch(backend):
        raise InvalidRequest(
            "job id must look like '<backend>~<vendor id>[~<vendor id>...]'",
            job_id=_shown(job_id),
        )
    parts = rest.split(SEPARATOR)
    for part in parts:
        if not _PART_RE.fullmatch(part):
            raise InvalidRequest(
                f"job id part {part!r} has characters outside A-Z a-z 0-9 - . _ and !XX escapes",
                job_id=_shown(job_id),
            )
    try:
        decoded = tuple(unescape_part(p) for p in parts)
    except UnicodeDecodeError:
        raise InvalidRequest(
            "job id has an escape that is not valid UTF-8", job_id=_shown(job_id)
        ) from None
    return JobRef(backend, decoded)


def _shown(job_id: object) -> str | None:
    return job_id[:200] if isinstance(job_id, str) else None
