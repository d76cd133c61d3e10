"""Catalogue, stock per location and the order ledger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_path", sa.String(length=300), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("image_urls", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_product_brand_id_brand"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_product_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint(
            "organization_id", "code", name=op.f("uq_product_organization_id_code")
        ),
    )
    op.create_index(op.f("ix_product_brand_id"), "product", ["brand_id"], unique=False)
    op.create_index(op.f("ix_product_category_path"), "product", ["category_path"], unique=False)
    op.create_index(
        op.f("ix_product_organization_id"), "product", ["organization_id"], unique=False
    )
    op.create_table(
        "sales_order",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("external_order_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fulfilment_type", sa.String(length=20), nullable=False),
        sa.Column("pickup_store_id", sa.Uuid(), nullable=True),
        sa.Column("ship_latitude", sa.Float(), nullable=True),
        sa.Column("ship_longitude", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_sales_order_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_sales_order_store_id_store"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order")),
        sa.UniqueConstraint(
            "organization_id",
            "store_id",
            "external_order_id",
            name=op.f("uq_sales_order_organization_id_store_id_external_order_id"),
        ),
    )
    op.create_index(op.f("ix_sales_order_channel"), "sales_order", ["channel"], unique=False)
    op.create_index(op.f("ix_sales_order_member_id"), "sales_order", ["member_id"], unique=False)
    op.create_index(
        "ix_sales_order_org_placed", "sales_order", ["organization_id", "placed_at"], unique=False
    )
    op.create_index(
        op.f("ix_sales_order_organization_id"), "sales_order", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_sales_order_status"), "sales_order", ["status"], unique=False)
    op.create_index(op.f("ix_sales_order_store_id"), "sales_order", ["store_id"], unique=False)
    op.create_table(
        "sku",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("image_urls", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_sku_brand_id_brand"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_sku_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_sku_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku")),
        sa.UniqueConstraint(
            "organization_id", "barcode", name=op.f("uq_sku_organization_id_barcode")
        ),
        sa.UniqueConstraint("organization_id", "code", name=op.f("uq_sku_organization_id_code")),
    )
    op.create_index(op.f("ix_sku_brand_id"), "sku", ["brand_id"], unique=False)
    op.create_index(op.f("ix_sku_organization_id"), "sku", ["organization_id"], unique=False)
    op.create_index(op.f("ix_sku_product_id"), "sku", ["product_id"], unique=False)
    op.create_table(
        "stock_location",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("fulfils_online", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["store.id"],
            name=op.f("fk_stock_location_location_id_store"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_stock_location_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_location")),
        sa.UniqueConstraint(
            "organization_id",
            "location_id",
            name=op.f("uq_stock_location_organization_id_location_id"),
        ),
    )
    op.create_index(
        op.f("ix_stock_location_organization_id"),
        "stock_location",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "refund",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_order.id"],
            name=op.f("fk_refund_order_id_sales_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_refund_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
    )
    op.create_index(op.f("ix_refund_order_id"), "refund", ["order_id"], unique=False)
    op.create_index(op.f("ix_refund_organization_id"), "refund", ["organization_id"], unique=False)
    op.create_table(
        "sales_order_line",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_order.id"],
            name=op.f("fk_sales_order_line_order_id_sales_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_sales_order_line_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_sales_order_line_sku_id_sku"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_line")),
    )
    op.create_index(
        op.f("ix_sales_order_line_order_id"), "sales_order_line", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_sales_order_line_organization_id"),
        "sales_order_line",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sales_order_line_sku_id"), "sales_order_line", ["sku_id"], unique=False
    )
    op.create_table(
        "sku_price",
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("channel_type", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_sku_price_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_sku_price_sku_id_sku"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku_price")),
        sa.UniqueConstraint(
            "sku_id", "channel_type", name=op.f("uq_sku_price_sku_id_channel_type")
        ),
    )
    op.create_index(
        op.f("ix_sku_price_organization_id"), "sku_price", ["organization_id"], unique=False
    )
    op.create_table(
        "sku_store_availability",
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_sku_store_availability_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["sku.id"],
            name=op.f("fk_sku_store_availability_sku_id_sku"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_sku_store_availability_store_id_store"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku_store_availability")),
        sa.UniqueConstraint(
            "sku_id", "store_id", name=op.f("uq_sku_store_availability_sku_id_store_id")
        ),
    )
    op.create_index(
        op.f("ix_sku_store_availability_organization_id"),
        "sku_store_availability",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sku_store_availability_store_id"),
        "sku_store_availability",
        ["store_id"],
        unique=False,
    )
    op.create_table(
        "sku_store_price",
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_sku_store_price_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_sku_store_price_sku_id_sku"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_sku_store_price_store_id_store"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku_store_price")),
        sa.UniqueConstraint("sku_id", "store_id", name=op.f("uq_sku_store_price_sku_id_store_id")),
    )
    op.create_index(
        op.f("ix_sku_store_price_organization_id"),
        "sku_store_price",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sku_store_price_store_id"), "sku_store_price", ["store_id"], unique=False
    )
    op.create_table(
        "stock_level",
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("allocated >= 0", name=op.f("ck_stock_level_allocated_not_negative")),
        sa.CheckConstraint(
            "on_hand - allocated - reserved >= 0",
            name=op.f("ck_stock_level_available_not_negative"),
        ),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_level_on_hand_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_level_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["store.id"],
            name=op.f("fk_stock_level_location_id_store"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_stock_level_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_stock_level_sku_id_sku"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_level")),
        sa.UniqueConstraint(
            "sku_id", "location_id", name=op.f("uq_stock_level_sku_id_location_id")
        ),
    )
    op.create_index(
        op.f("ix_stock_level_location_id"), "stock_level", ["location_id"], unique=False
    )
    op.create_index(
        op.f("ix_stock_level_organization_id"), "stock_level", ["organization_id"], unique=False
    )
    op.create_table(
        "stock_movement",
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["store.id"],
            name=op.f("fk_stock_movement_location_id_store"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_stock_movement_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_stock_movement_sku_id_sku"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    op.create_index(
        op.f("ix_stock_movement_organization_id"),
        "stock_movement",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_stock_movement_reference"), "stock_movement", ["reference"], unique=False
    )
    op.create_index(
        "ix_stock_movement_sku_location", "stock_movement", ["sku_id", "location_id"], unique=False
    )
    op.create_table(
        "stock_reservation",
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cart_reference", sa.String(length=100), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["store.id"],
            name=op.f("fk_stock_reservation_location_id_store"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_stock_reservation_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["sku.id"],
            name=op.f("fk_stock_reservation_sku_id_sku"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservation")),
    )
    op.create_index(
        "ix_stock_reservation_level_status",
        "stock_reservation",
        ["sku_id", "location_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_stock_reservation_organization_id"),
        "stock_reservation",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "refund_line",
        sa.Column("refund_id", sa.Uuid(), nullable=False),
        sa.Column("order_line_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["sales_order_line.id"],
            name=op.f("fk_refund_line_order_line_id_sales_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_refund_line_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["refund.id"],
            name=op.f("fk_refund_line_refund_id_refund"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_line")),
    )
    op.create_index(
        op.f("ix_refund_line_organization_id"), "refund_line", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_refund_line_refund_id"), "refund_line", ["refund_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refund_line_refund_id"), table_name="refund_line")
    op.drop_index(op.f("ix_refund_line_organization_id"), table_name="refund_line")
    op.drop_table("refund_line")
    op.drop_index(op.f("ix_stock_reservation_organization_id"), table_name="stock_reservation")
    op.drop_index("ix_stock_reservation_level_status", table_name="stock_reservation")
    op.drop_table("stock_reservation")
    op.drop_index("ix_stock_movement_sku_location", table_name="stock_movement")
    op.drop_index(op.f("ix_stock_movement_reference"), table_name="stock_movement")
    op.drop_index(op.f("ix_stock_movement_organization_id"), table_name="stock_movement")
    op.drop_table("stock_movement")
    op.drop_index(op.f("ix_stock_level_organization_id"), table_name="stock_level")
    op.drop_index(op.f("ix_stock_level_location_id"), table_name="stock_level")
    op.drop_table("stock_level")
    op.drop_index(op.f("ix_sku_store_price_store_id"), table_name="sku_store_price")
    op.drop_index(op.f("ix_sku_store_price_organization_id"), table_name="sku_store_price")
    op.drop_table("sku_store_price")
    op.drop_index(op.f("ix_sku_store_availability_store_id"), table_name="sku_store_availability")
    op.drop_index(
        op.f("ix_sku_store_availability_organization_id"), table_name="sku_store_availability"
    )
    op.drop_table("sku_store_availability")
    op.drop_index(op.f("ix_sku_price_organization_id"), table_name="sku_price")
    op.drop_table("sku_price")
    op.drop_index(op.f("ix_sales_order_line_sku_id"), table_name="sales_order_line")
    op.drop_index(op.f("ix_sales_order_line_organization_id"), table_name="sales_order_line")
    op.drop_index(op.f("ix_sales_order_line_order_id"), table_name="sales_order_line")
    op.drop_table("sales_order_line")
    op.drop_index(op.f("ix_refund_organization_id"), table_name="refund")
    op.drop_index(op.f("ix_refund_order_id"), table_name="refund")
    op.drop_table("refund")
    op.drop_index(op.f("ix_stock_location_organization_id"), table_name="stock_location")
    op.drop_table("stock_location")
    op.drop_index(op.f("ix_sku_product_id"), table_name="sku")
    op.drop_index(op.f("ix_sku_organization_id"), table_name="sku")
    op.drop_index(op.f("ix_sku_brand_id"), table_name="sku")
    op.drop_table("sku")
    op.drop_index(op.f("ix_sales_order_store_id"), table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_status"), table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_organization_id"), table_name="sales_order")
    op.drop_index("ix_sales_order_org_placed", table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_member_id"), table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_channel"), table_name="sales_order")
    op.drop_table("sales_order")
    op.drop_index(op.f("ix_product_organization_id"), table_name="product")
    op.drop_index(op.f("ix_product_category_path"), table_name="product")
    op.drop_index(op.f("ix_product_brand_id"), table_name="product")
    op.drop_table("product")
