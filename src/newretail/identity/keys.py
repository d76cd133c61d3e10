"""Lookups by member id that use the id's index.

The session hook adds `organization_id = :org` to every ORM query. For `member_id IN (…)`
lookups SQLite then prefers the organisation index and scans every row of the organisation
(millions of profiles). These helpers skip the hook (`include_all_organizations`) and state
the organisation themselves in a form no index is chosen for, so the id index is used and
the organisation is still enforced.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, and_, func

UNSCOPED = {"include_all_organizations": True}
UNSCOPED_NO_SYNC = {"include_all_organizations": True, "synchronize_session": False}


def keyed(
    model: Any, organization_id: uuid.UUID, column: Any, values: Collection[Any]
) -> ColumnElement[bool]:
    """`column IN values` within the organisation (run with UNSCOPED)."""
    same_org = func.coalesce(model.organization_id, model.organization_id) == organization_id
    return and_(same_org, column.in_(list(values)))
