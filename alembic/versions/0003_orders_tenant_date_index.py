"""orders: an index on (tenant_id, date)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:40:00

Counting a tenant's orders of the window (core.snapshot_store.count_orders) reads only the
window's rows through it; with the primary key alone SQLite scanned every order of the tenant.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_tenant_date", "orders", ["tenant_id", "date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_tenant_date", table_name="orders")
