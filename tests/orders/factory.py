"""Builders shared by the commerce tests: a catalogue, locations and stock, through services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newretail.bootstrap import Container
from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.core.database import scope_session, session_scope
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.inventory.models import StockLevel, StockMovement
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org


def owner(org_id: uuid.UUID) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="test")


@dataclass
class Shop:
    """org.store_ids[0] is a shop (Shanghai), [1] a counter; plus these."""

    org: Org
    sku_ids: list[uuid.UUID]
    sku_codes: list[str]
    shop_id: uuid.UUID
    counter_id: uuid.UUID
    online_id: uuid.UUID
    warehouse_id: uuid.UUID
    near_store_id: uuid.UUID

    @property
    def principal(self) -> Principal:
        return owner(self.org.id)


def build_shop(container: Container, org: Org, skus: int = 2, stock: int = 0) -> Shop:
    """Two SKUs priced 10.00 everywhere (online 12.00), an online store, a warehouse and a
    second shop that fulfils online orders; `stock` units of every SKU at every location."""
    principal = owner(org.id)
    with session_scope(container.sessions, org.id) as session:
        product = catalog_service.create_product(
            session,
            principal,
            catalog_schemas.ProductCreate(
                brand_id=org.brand_id, code="P1", name="Serum", category_path="Skincare/Serums"
            ),
        )
        sku_rows = [
            catalog_service.create_sku(
                session,
                principal,
                product.id,
                catalog_schemas.SkuCreate(
                    code=f"SKU{i}",
                    name=f"Serum {i}",
                    barcode=f"690000{i:04d}",
                    prices={
                        **{c: Decimal("10.00") for c in catalog_schemas.SELLING_CHANNELS},
                        ChannelType.ONLINE: Decimal("12.00"),
                    },
                ),
            )
            for i in range(skus)
        ]

        def store(
            code: str, channel: ChannelType, lat: float | None, lon: float | None
        ) -> uuid.UUID:
            return tenancy_service.create_store(
                session,
                principal,
                tenancy_schemas.StoreCreate(
                    code=code,
                    name=code,
                    channel_type=channel,
                    brand_id=org.brand_id,
                    latitude=lat,
                    longitude=lon,
                ),
            ).id

        online = store("ONLINE", ChannelType.ONLINE, None, None)
        warehouse = store("WH", ChannelType.WAREHOUSE, 31.38, 121.25)
        near = store("NEAR", ChannelType.STORE, 31.22, 121.47)
        inventory_service.set_location_policy(
            session, principal, near, inventory_schemas.LocationPolicySet(fulfils_online=True)
        )
        shop = Shop(
            org=org,
            sku_ids=[s.id for s in sku_rows],
            sku_codes=[s.code for s in sku_rows],
            shop_id=org.store_ids[0],
            counter_id=org.store_ids[1],
            online_id=online,
            warehouse_id=warehouse,
            near_store_id=near,
        )
        if stock:
            for location in (shop.shop_id, shop.counter_id, warehouse, near):
                receive(session, principal, location, shop.sku_ids, stock)
    return shop


def receive(
    session: Session,
    principal: Principal,
    location_id: uuid.UUID,
    sku_ids: list[uuid.UUID],
    quantity: int,
) -> None:
    inventory_service.receive_stock(
        session,
        principal,
        inventory_schemas.ReceiptCreate(
            location_id=location_id,
            lines=[inventory_schemas.StockLineIn(sku_id=s, quantity=quantity) for s in sku_ids],
        ),
    )


def level(
    container: Container, org_id: uuid.UUID, sku_id: uuid.UUID, location_id: uuid.UUID
) -> StockLevel:
    with session_scope(container.sessions, org_id) as session:
        row = session.scalar(
            select(StockLevel).where(
                StockLevel.sku_id == sku_id, StockLevel.location_id == location_id
            )
        )
        assert row is not None
        return row


def check_ledger(container: Container, org_id: uuid.UUID, *, tills_overdrew: bool = False) -> None:
    """on_hand equals the sum of ledger deltas and no counter is negative, on every row
    (`tills_overdrew`: POS sales of goods in hand may have taken on-hand below zero)."""
    with session_scope(container.sessions, org_id) as session:
        scope_session(session, org_id)
        sums = {
            (sku_id, location_id): int(total)
            for sku_id, location_id, total in session.execute(
                select(
                    StockMovement.sku_id, StockMovement.location_id, func.sum(StockMovement.delta)
                ).group_by(StockMovement.sku_id, StockMovement.location_id)
            )
        }
        for row in session.scalars(select(StockLevel)):
            assert row.allocated >= 0 and row.reserved >= 0
            if not tills_overdrew:
                assert row.on_hand >= 0
                assert row.on_hand - row.allocated - row.reserved >= 0
            assert row.on_hand == sums.get((row.sku_id, row.location_id), 0)
