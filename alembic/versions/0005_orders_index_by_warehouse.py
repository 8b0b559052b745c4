"""orders: the report's index leads with the warehouse, type and cancellation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 01:10:00

The report reads a tenant's window as one group per (warehouse, type, cancellation), each
group's orders joined into one string by the database (core.snapshot_store.warehouse_orders),
instead of a row per order. Ordered by the group's columns first, the index gives the groups
in order: a large seller's 30 days (500,000 orders) took SQLite 0.18 s of CPU instead of 0.43 s
for the rows read from ix_orders_window, which sorted by date would have needed a temporary
sort of every order (0.57 s). Every column the report reads is still a key of the index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage.models.ORDERS_WINDOW_INDEX_COLUMNS at this revision (a migration is frozen).
COLUMNS = [
    "tenant_id",
    "warehouse_name",
    "warehouse_type",
    "is_cancel",
    "date",
    "barcode",
    "nm_id",
    "tech_size",
    "supplier_article",
]
# Revision 0004's index.
PREVIOUS_COLUMNS = [
    "tenant_id",
    "date",
    "nm_id",
    "barcode",
    "tech_size",
    "supplier_article",
    "warehouse_name",
    "warehouse_type",
    "is_cancel",
]


def upgrade() -> None:
    op.create_index("ix_orders_by_warehouse", "orders", COLUMNS, unique=False)
    op.drop_index("ix_orders_window", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_window", "orders", PREVIOUS_COLUMNS, unique=False)
    op.drop_index("ix_orders_by_warehouse", table_name="orders")
