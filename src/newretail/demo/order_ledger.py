"""The rows the demo's orders write, built as the services build them (the order ledger's
row builders in `orders.rows`): orders, lines, refunds, stock movements and outbox events,
and the demand the opening stock is sized from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from newretail.demo.stock import ACTOR, Demand
from newretail.orders import rows
from newretail.orders.models import OrderStatus


@dataclass
class OrderLedger:
    """The rows the demo's orders write, as the services would: orders, lines, refunds,
    stock movements and outbox events."""

    organization_id: uuid.UUID
    now: datetime
    codes: dict[uuid.UUID, str]
    demand: Demand = field(default_factory=Demand)
    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refund_lines: list[dict[str, Any]] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def event(
        self,
        event_type: str,
        order: dict[str, Any],
        at: datetime,
        amount: Decimal,
        lines: list[dict[str, Any]],
    ) -> None:
        """An order event in the outbox, its lines as the demo names them."""
        body = [
            {
                "order_line_id": str(row["id"]),
                "sku_id": str(row["sku_id"]),
                "sku_code": self.codes[row["sku_id"]],
                "brand_id": str(row["brand_id"]),
                "quantity": row["quantity"],
                "unit_price": str(row["unit_price"]),
                "amount": str(row["amount"]),
                "location_id": str(row["location_id"]),
            }
            for row in lines
        ]
        self.events.append(rows.outbox_row(order, event_type, at, amount, body, self.now))

    def movement(
        self,
        order: dict[str, Any],
        sku_id: uuid.UUID,
        location_id: uuid.UUID,
        delta: int,
        reason: str,
        at: datetime,
    ) -> None:
        """A stock ledger row of the order."""
        self.movements.append(
            {
                "id": uuid.uuid4(),
                "organization_id": self.organization_id,
                "created_at": at,
                "sku_id": sku_id,
                "location_id": location_id,
                "delta": delta,
                "reason": reason,
                "note": None,
                "actor": ACTOR,
                "reference": f"order:{order['id']}",
            }
        )

    def refund(self, order: dict[str, Any], line: dict[str, Any], refunded_at: datetime) -> None:
        """Refund one line in full: stock back at its location, the order's status follows."""
        refund_id = uuid.uuid4()
        line["refunded_quantity"] = line["quantity"]
        order["refunded_amount"] = line["amount"]
        order["status"] = (
            OrderStatus.REFUNDED
            if order["total_amount"] == line["amount"]
            else OrderStatus.PARTIALLY_REFUNDED
        )
        order["updated_at"] = refunded_at
        self.refunds.append(
            {
                "id": refund_id,
                "organization_id": self.organization_id,
                "created_at": refunded_at,
                "order_id": order["id"],
                "amount": line["amount"],
                "reason": "customer return",
                "actor": ACTOR,
            }
        )
        self.refund_lines.append(
            {
                "id": uuid.uuid4(),
                "organization_id": self.organization_id,
                "created_at": refunded_at,
                "refund_id": refund_id,
                "order_line_id": line["id"],
                "quantity": line["quantity"],
                "amount": line["amount"],
                "location_id": line["location_id"],
            }
        )
        self.movement(
            order, line["sku_id"], line["location_id"], line["quantity"], "refund", refunded_at
        )
        self.demand.refunded[(line["sku_id"], line["location_id"])] += line["quantity"]
        self.event("order_refunded", order, refunded_at, line["amount"], [line])
