"""Errors of the order ledger, each with a stable code (messages: `error.<code>` in the
domain's locale catalogues, with the same placeholders as `params`)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from newretail.core.errors import Conflict


class OrderErrorCode(StrEnum):
    INVALID_TRANSITION = "invalid_transition"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"


class InvalidTransition(Conflict, code=OrderErrorCode.INVALID_TRANSITION):
    """The order's status does not allow this step (409)."""

    def __init__(self, message: str, *, current: str, target: str = "") -> None:
        super().__init__(message, field="status")
        self.params = {"status": current, "target": target}


class IdempotencyConflict(Conflict, code=OrderErrorCode.IDEMPOTENCY_CONFLICT):
    """A device order id sent again with other content than the order it recorded (409)."""

    def __init__(self, order_id: uuid.UUID, external_order_id: str, differs: str) -> None:
        super().__init__(
            f"order {external_order_id} ({order_id}) was recorded with other {differs}; "
            "send a new order id for a new sale",
            field=differs,
        )
        self.order_id = order_id
        self.params = {"order": external_order_id, "order_id": str(order_id), "field": differs}
