"""Tenants, scenarios, jobs, intents and the audit log.

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


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "tenant_id", sa.Integer, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("yaml", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_scenarios_tenant", "scenarios", ["tenant_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "tenant_id", sa.Integer, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scenario_id", sa.String(32), nullable=False),
        sa.Column("scenario_yaml", sa.Text, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("heartbeat_at", ts),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("started_at", ts),
        sa.Column("finished_at", ts),
        sa.Column("summary", sa.JSON),
    )
    op.create_index("ix_jobs_tenant_kind", "jobs", ["tenant_id", "kind"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "intents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "tenant_id", sa.Integer, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("admitted", sa.Boolean, nullable=False),
        sa.Column("released", sa.Boolean, nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Float),
        sa.Column("availability", sa.Float),
        sa.Column("gpu_load", sa.Float, nullable=False),
        sa.Column("constraint", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("released_at", ts),
    )
    op.create_index("ix_intents_run", "intents", ["run_id", "tenant_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant_id", sa.Integer),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_tenant", "audit", ["tenant_id"])


def downgrade() -> None:
    for name in ("audit", "intents", "jobs", "scenarios", "tenants"):
        op.drop_table(name)
