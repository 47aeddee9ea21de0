"""The ledger's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Times are integer microseconds since the epoch (UTC): exact keyset cursors, cheap indexes and
the same comparisons on both databases. The migrations in migrations/versions create exactly
these; change both together.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(512), primary_key=True),
    sa.Column("backend", sa.String(128), nullable=False),
    sa.Column("vendor", sa.String(64), nullable=False),
    sa.Column("api_version", sa.String(32)),
    sa.Column("vendor_ids", sa.JSON, nullable=False),
    sa.Column("name", sa.Text),
    # The name lowercased: "name contains" scans the narrow (status, name_folded) index, not
    # every row, and needs no lower() per row.
    sa.Column("name_folded", sa.Text),
    sa.Column("caller", sa.String(128)),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("submission", sa.JSON),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("vendor_status", sa.Text),
    sa.Column("terminal", sa.Boolean, nullable=False),
    sa.Column("progress", sa.Float),
    sa.Column("created_us", sa.BigInteger),
    # created_us, or first_seen_us when the vendor gives no creation time: the "created" sort.
    sa.Column("listed_us", sa.BigInteger, nullable=False),
    sa.Column("first_seen_us", sa.BigInteger, nullable=False),
    sa.Column("last_seen_us", sa.BigInteger, nullable=False),
    sa.Column("updated_us", sa.BigInteger, nullable=False),
    sa.Column("outcome_unknown", sa.Boolean, nullable=False),
    sa.Column("at_vendor", sa.Boolean, nullable=False),
    sa.Column("last_problem", sa.JSON),
    sa.Column("result", sa.JSON),
    sa.Index("ix_jobs_listed", "listed_us", "id"),
    sa.Index("ix_jobs_updated", "updated_us", "id"),
    sa.Index("ix_jobs_status_listed", "status", "listed_us", "id"),
    sa.Index("ix_jobs_status_updated", "status", "updated_us", "id"),
    sa.Index("ix_jobs_backend_listed", "backend", "listed_us", "id"),
    sa.Index("ix_jobs_backend_updated", "backend", "updated_us", "id"),
    sa.Index("ix_jobs_backend_status", "backend", "status"),
    sa.Index("ix_jobs_vendor_listed", "vendor", "listed_us"),
    sa.Index("ix_jobs_caller_listed", "caller", "listed_us"),
    sa.Index("ix_jobs_refresh", "terminal", "last_seen_us"),
    sa.Index("ix_jobs_status_name", "status", "name_folded"),
)

status_changes = sa.Table(
    "status_changes",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(512), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("vendor_status", sa.Text),
    sa.Column("progress", sa.Float),
    sa.Column("observed_us", sa.BigInteger, nullable=False),
    sa.Column("observed_by", sa.String(16), nullable=False),
    sa.Index("ix_status_changes_job", "job_id", "seq"),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("request_hash", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending|settled|refused|unknown
    sa.Column("backend", sa.String(128), nullable=False),
    sa.Column("vendor", sa.String(64), nullable=False),
    sa.Column("api_version", sa.String(32)),
    sa.Column("caller", sa.String(128)),
    sa.Column("submission", sa.JSON, nullable=False),
    sa.Column("job_ids", sa.JSON, nullable=False),
    sa.Column("problem", sa.JSON),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("updated_us", sa.BigInteger, nullable=False),
    # NULL keys are distinct on both databases: any number of submissions without a key.
    sa.UniqueConstraint("tenant", "idempotency_key", name="uq_submissions_key"),
    sa.Index("ix_submissions_state", "state", "created_us"),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("expires_us", sa.BigInteger, nullable=False),
)
