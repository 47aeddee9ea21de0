"""The job ledger: every job the gateway submits or sees, with its status timeline.

SQLAlchemy Core over SQLite (the embedded default) or PostgreSQL (several replicas), with
Alembic migrations shipped in this package. Observations are written behind the caller's back
(bounded, batched, retried; only changes); submissions are written ahead of the vendor call.
"""

from __future__ import annotations

from gateway.config import LedgerConfig
from gateway.errors import LedgerSchemaError, LedgerUnavailable
from gateway.ledger.ledger import Ledger, LedgerHealth
from gateway.ledger.query import MAX_PAGE_SIZE, LedgerQuery
from gateway.ledger.records import SubmissionRecord, SubmissionState
from gateway.ledger.schema import UPGRADE_COMMAND, head_revision, upgrade
from gateway.ledger.submissions import IdempotencyKeyTaken

__all__ = [
    "MAX_PAGE_SIZE",
    "UPGRADE_COMMAND",
    "IdempotencyKeyTaken",
    "Ledger",
    "LedgerConfig",
    "LedgerHealth",
    "LedgerQuery",
    "LedgerSchemaError",
    "LedgerUnavailable",
    "SubmissionRecord",
    "SubmissionState",
    "head_revision",
    "upgrade",
]
