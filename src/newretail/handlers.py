"""Wires every domain's domain-event handlers (as api.py mounts every router).

Each line imports a module whose `@domain_events.handler(...)` functions register themselves.
"""

from __future__ import annotations

from newretail.core import domain_events
from newretail.marketing import consent_port
from newretail.marketing import member_merges as marketing_member_merges  # noqa: F401
from newretail.members import consent as members_consent
from newretail.members import member_merges as members_member_merges  # noqa: F401
from newretail.members import order_handlers  # noqa: F401  (OrderPaid, OrderRefunded)
from newretail.orders import member_merges as orders_member_merges  # noqa: F401
from newretail.privacy import corrections  # noqa: F401  (MemberCorrected: the audit)


def install() -> None:
    """Register every handler module; publishing before this raises instead of losing events."""
    # marketing's bulk issue asks the members' one consent rule (marketing.consent_port)
    consent_port.supply(members_consent.consenting)
    domain_events.mark_installed()
