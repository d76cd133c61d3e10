"""Members' points: one balance rule, the ledger and its view, earning and reversal, spending,
the maintenance jobs, earn rules and settings.

Points live in lots (one per award or positive adjustment). A lot is locked until the
organisation's return window has passed, then available; it expires at `expires_at` (N days
after earning, or the end of the calendar year of earning in the organisation's time zone).
Redemption takes the soonest-expiring available lots first. What a member holds at an
instant is `balance` (see balance.py): every reader and writer uses it.

Callers use this package's names (`points.redeem_points`); the modules hold one concept each.
"""

from newretail.members.points.balance import (
    Balance,
    available_points_column,
    balance,
    balance_of_lots,
    balances,
    member_read,
    member_reads,
    points_balance,
    recompute_balance,
)
from newretail.members.points.earn_rules import (
    AwardLine,
    create_earn_rule,
    delete_earn_rule,
    get_earn_rule,
    line_points,
    list_earn_rules,
    update_earn_rule,
)
from newretail.members.points.earning import RefundLine, award_order_points, reverse_order_points
from newretail.members.points.ledger import SYSTEM_ACTOR, check_invariants
from newretail.members.points.ledger_view import ledger, ledger_page, ledger_rows
from newretail.members.points.maintenance import expire_points, release_locked_points
from newretail.members.points.settings import expiry_for, get_settings, update_settings
from newretail.members.points.spending import (
    adjust_points,
    grant_points,
    redeem_for,
    redeem_points,
)

__all__ = [
    "SYSTEM_ACTOR",
    "AwardLine",
    "Balance",
    "RefundLine",
    "adjust_points",
    "available_points_column",
    "award_order_points",
    "balance",
    "balance_of_lots",
    "balances",
    "check_invariants",
    "create_earn_rule",
    "delete_earn_rule",
    "expire_points",
    "expiry_for",
    "get_earn_rule",
    "get_settings",
    "grant_points",
    "ledger",
    "ledger_page",
    "ledger_rows",
    "line_points",
    "list_earn_rules",
    "member_read",
    "member_reads",
    "points_balance",
    "recompute_balance",
    "redeem_for",
    "redeem_points",
    "release_locked_points",
    "reverse_order_points",
    "update_earn_rule",
    "update_settings",
]
