"""The job a vendor answers about is the job that was asked for.

A vendor body that names another id than the request's path (seen on Llama Stack: asked
`job-1`, answered `ea`) is a vendor inconsistency, not a new identity: the job keeps the id it
was asked by, the body stays under `raw`, and the disagreement is logged once per
(backend, asked, answered).
"""

from __future__ import annotations

import logging
from typing import Final

from gateway.adapters.base import BackendContext
from gateway.redact import scrub_text

log = logging.getLogger("gateway.adapters")
MAX_TRACKED: Final = 1000  # distinct disagreements logged; bounds memory on a noisy vendor
_seen: set[tuple[str, str, str]] = set()


def asked_id(ctx: BackendContext, answered: str | None, asked: str | None) -> str | None:
    """The vendor id of the job: the one asked for when there is one (the body's only when
    nothing was asked, as on a create), else what the body says."""
    if not asked:
        return answered
    if answered is not None and answered != asked:
        key = (ctx.backend, asked, answered)
        if key not in _seen and len(_seen) < MAX_TRACKED:
            _seen.add(key)
            log.warning(
                "%s (backend %s) answered a read of job %r about job %r; kept the id asked for",
                ctx.vendor,
                ctx.backend,
                scrub_text(asked, ctx.secrets)[:200],
                scrub_text(answered, ctx.secrets)[:200],
            )
    return asked
