"""The first ledger tables: jobs, status_changes, submissions, leases.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(512), primary_key=True),
        sa.Column("backend", sa.String(128), nullable=False),
        sa.Column("vendor", sa.String(64), nullable=False),
        sa.Column("api_version", sa.String(32)),
        sa.Column("vendor_ids", sa.JSON, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("name_folded", sa.Text),
        sa.Column("caller", sa.String(128)),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("submission", sa.JSON),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("vendor_status", sa.Text),
        sa.Column("terminal", sa.Boolean, nullable=False),
        sa.Column("progress", sa.Float),
        sa.Column("created_us", sa.BigInteger),
        sa.Column("listed_us", sa.BigInteger, nullable=False),
        sa.Column("first_seen_us", sa.BigInteger, nullable=False),
        sa.Column("last_seen_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("outcome_unknown", sa.Boolean, nullable=False),
        sa.Column("at_vendor", sa.Boolean, nullable=False),
        sa.Column("last_problem", sa.JSON),
        sa.Column("result", sa.JSON),
    )
    for name, columns in (
        ("ix_jobs_listed", ["listed_us", "id"]),
        ("ix_jobs_updated", ["updated_us", "id"]),
        ("ix_jobs_status_listed", ["status", "listed_us", "id"]),
        ("ix_jobs_status_updated", ["status", "updated_us", "id"]),
        ("ix_jobs_backend_listed", ["backend", "listed_us", "id"]),
        ("ix_jobs_backend_updated", ["backend", "updated_us", "id"]),
        ("ix_jobs_backend_status", ["backend", "status"]),
        ("ix_jobs_vendor_listed", ["vendor", "listed_us"]),
        ("ix_jobs_caller_listed", ["caller", "listed_us"]),
        ("ix_jobs_refresh", ["terminal", "last_seen_us"]),
        ("ix_jobs_status_name", ["status", "name_folded"]),
    ):
        op.create_index(name, "jobs", columns)
    op.create_table(
        "status_changes",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(512), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("vendor_status", sa.Text),
        sa.Column("progress", sa.Float),
        sa.Column("observed_us", sa.BigInteger, nullable=False),
        sa.Column("observed_by", sa.String(16), nullable=False),
    )
    op.create_index("ix_status_changes_job", "status_changes", ["job_id", "seq"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("request_hash", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("backend", sa.String(128), nullable=False),
        sa.Column("vendor", sa.String(64), nullable=False),
        sa.Column("api_version", sa.String(32)),
        sa.Column("caller", sa.String(128)),
        sa.Column("submission", sa.JSON, nullable=False),
        sa.Column("job_ids", sa.JSON, nullable=False),
        sa.Column("problem", sa.JSON),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("tenant", "idempotency_key", name="uq_submissions_key"),
    )
    op.create_index("ix_submissions_state", "submissions", ["state", "created_us"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("leases", "submissions", "status_changes", "jobs"):
        op.drop_table(table)
