"""OneID moves no other domain's history itself: it publishes MembersMerged / MergeUndone and
the owning domains' handlers move their rows."""

from __future__ import annotations

import ast
from importlib.resources import files

from newretail.core import domain_events
from newretail.identity.merge_events import MembersMerged, MergeUndone

# what identity may use of members: the profile graph and identifier hashing, nothing else
ALLOWED_FROM_MEMBERS = {
    "newretail.members.profile_graph": {
        "Member",
        "MemberIdentifier",
        "IdentifierType",
        "MemberStatus",
        "PERSONAL_TYPES",  # the identifier types a person gives, beside IdentifierType
    },
    "newretail.members.identifiers": {"identifier_hash", "member_settings"},
    "newretail.members.errors": {"InvalidIdentifier"},
}


def _imports() -> list[tuple[str, str, str]]:
    found = []
    for path in (files("newretail") / "identity").iterdir():
        if not path.name.endswith(".py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [(path.name, node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(path.name, alias.name, "") for alias in node.names]
    return found


def test_identity_imports_no_orders_and_no_members_history() -> None:
    outside = [
        (module_file, module, name)
        for module_file, module, name in _imports()
        if module.startswith(("newretail.orders", "newretail.members"))
        and name not in ALLOWED_FROM_MEMBERS.get(module, set())
    ]
    assert outside == []


def test_the_owning_domains_handle_merges_and_undos() -> None:
    def names(event_type: type) -> list[str]:
        return sorted(f"{h.__module__}.{h.__name__}" for h in domain_events.handlers_of(event_type))

    assert names(MembersMerged) == [
        "newretail.marketing.member_merges.move_coupons",
        "newretail.members.member_merges.move_member_history",
        "newretail.orders.member_merges.move_orders",
    ]
    assert names(MergeUndone) == [
        "newretail.marketing.member_merges.restore_coupons",
        "newretail.members.member_merges.restore_member_history",
        "newretail.orders.member_merges.restore_orders",
    ]
