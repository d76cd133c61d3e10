"""The transactional outbox: commerce facts written with the fact, relayed once as events."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime


class OutboxMessage(IdMixin, TenantMixin, Base):
    __tablename__ = "outbox_message"

    event_type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    brand_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
