"""The ledger wired into the gateway: observation hooks, write-ahead submissions, the job list
and history, the refresher and the sync importer. (The storage itself is gateway.ledger; this
package imports it, and so SQLAlchemy, only when a ledger is first opened.)"""

from __future__ import annotations

from gateway.ledger_jobs.handle import LedgerHandle, LedgerStatus
from gateway.ledger_jobs.records import AT_VENDOR_HEADER, job_from_record

__all__ = ["AT_VENDOR_HEADER", "LedgerHandle", "LedgerStatus", "job_from_record"]
