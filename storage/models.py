"""Tables. The schema changes only through Alembic migrations (alembic/versions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Tenant(Base):
    """A seller's private chat with the bot, and everything the seller configured."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    user_name: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(8), default="ru")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    seller_name: Mapped[str | None] = mapped_column(String(255))
    seller_id: Mapped[str | None] = mapped_column(String(64))
    wb_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_fingerprint: Mapped[str | None] = mapped_column(String(32))
    token_type: Mapped[int | None] = mapped_column(Integer)
    token_categories: Mapped[int | None] = mapped_column(BigInteger)  # the JWT's `s` bitmask
    key_read_only: Mapped[bool | None] = mapped_column(Boolean)
    key_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_invalid_reason: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_cron: Mapped[str | None] = mapped_column(String(64))
    notify_mode: Mapped[str] = mapped_column(String(16), default="changes")
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=7)
    spreadsheet_id: Mapped[str | None] = mapped_column(String(128))
    sheet_written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sheet_error: Mapped[str | None] = mapped_column(String(255))
    limiter_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alerts_baseline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_expiry_warned_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def has_key(self) -> bool:
        return self.wb_key_encrypted is not None


class SyncLog(Base):
    """One sync attempt: who started it, how it ended, what it counted."""

    __tablename__ = "sync_logs"
    __table_args__ = (Index("ix_sync_logs_tenant_started", "tenant_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    products: Mapped[int | None] = mapped_column(Integer)
    fbo_units: Mapped[int | None] = mapped_column(Integer)
    fbs_units: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)


class DataPartState(Base):
    """The last copy of one part a sync read (for reuse while WB's limits forbid a re-read)."""

    __tablename__ = "data_parts"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[str] = mapped_column(String(16), primary_key=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # orjson of the normalized rows
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. a remains task id


# The orders' index for the report (core.snapshot_store.warehouse_orders): a tenant's orders a
# warehouse, type and cancellation at a time, then the window's dates, then every other column
# the report reads of an order. The report reads the window as one group per warehouse, in
# this order: no sort, and no row of the table looked up.
ORDERS_WINDOW_INDEX = "ix_orders_by_warehouse"
ORDERS_WINDOW_INDEX_COLUMNS = (
    "tenant_id",
    "warehouse_name",
    "warehouse_type",
    "is_cancel",
    "date",
    "barcode",
    "nm_id",
    "tech_size",
    "supplier_article",
)


class StoredOrder(Base):
    """Orders kept incrementally by srid; a later lastChangeDate updates the row."""

    __tablename__ = "orders"
    # The window's orders of one tenant, read from the index alone (migration 0005).
    __table_args__ = (Index(ORDERS_WINDOW_INDEX, *ORDERS_WINDOW_INDEX_COLUMNS),)

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    srid: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[datetime] = mapped_column(DateTime, index=True)  # Moscow local, as WB sends
    last_change_date: Mapped[datetime] = mapped_column(DateTime)
    nm_id: Mapped[int] = mapped_column(BigInteger)
    barcode: Mapped[str] = mapped_column(String(64))
    tech_size: Mapped[str] = mapped_column(String(64))
    supplier_article: Mapped[str] = mapped_column(String(128))
    warehouse_name: Mapped[str] = mapped_column(String(128))
    warehouse_type: Mapped[str] = mapped_column(String(32))
    is_cancel: Mapped[bool] = mapped_column(Boolean)
    cancel_date: Mapped[datetime | None] = mapped_column(DateTime)
    g_number: Mapped[str] = mapped_column(String(64), default="")
    finished_price: Mapped[float] = mapped_column(Float, default=0.0)


class SnapshotMeta(Base):
    """The latest report's header: when, which window, totals and the age of each part."""

    __tablename__ = "snapshots"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_days: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    window_end: Mapped[datetime] = mapped_column(DateTime)
    low_stock_threshold: Mapped[float] = mapped_column(Float)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    part_times: Mapped[dict[str, Any]] = mapped_column(JSON)
    low_stock: Mapped[dict[str, Any]] = mapped_column(JSON)


class SnapshotProduct(Base):
    """One product of the latest report."""

    __tablename__ = "snapshot_products"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    nm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    vendor_code: Mapped[str] = mapped_column(String(128))
    brand: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    sizes: Mapped[int] = mapped_column(Integer)
    fbo_units: Mapped[int] = mapped_column(Integer)
    fbs_units: Mapped[int] = mapped_column(Integer)
    in_transit_to_buyers: Mapped[int] = mapped_column(Integer)
    in_transit_returns: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
    days_of_cover: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer)


class SnapshotRow(Base):
    """One product size at one warehouse in the latest report."""

    __tablename__ = "snapshot_rows"
    __table_args__ = (Index("ix_snapshot_rows_tenant", "tenant_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    nm_id: Mapped[int] = mapped_column(BigInteger)
    chrt_id: Mapped[int | None] = mapped_column(BigInteger)
    barcode: Mapped[str] = mapped_column(String(64))
    size: Mapped[str] = mapped_column(String(64))
    warehouse: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(8))
    stock: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
    days_of_cover: Mapped[float | None] = mapped_column(Float)


class DailyTotal(Base):
    """A product's totals per day (the last sync of the day wins), for trends."""

    __tablename__ = "daily_totals"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    nm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fbo_units: Mapped[int] = mapped_column(Integer)
    fbs_units: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)


class AlertState(Base):
    """Whether a product was low at the last sync, so alerts fire on transitions only."""

    __tablename__ = "alert_states"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    nm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    is_low: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class HealthCheck(Base):
    """The result of a periodic health check, kept for admins."""

    __tablename__ = "health_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class AdminAction(Base):
    """Who did what to whom, from the admin commands."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    admin_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """A named lease held by one process (e.g. the scheduler), renewed while alive."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
