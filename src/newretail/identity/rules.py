"""Identifier type rules (unique per member, maximum per member) and the group check.

A group is the set of profiles that resolve to one canonical member. A group is valid when it
holds at most one value of each unique type, no more identifiers of a type than its maximum
and no more profiles than the organisation's `max_group_size`. These checks are pure so that
the resolver, the bulk loader and the tests share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from newretail.identity.models import ConflictKind
from newretail.members.profile_graph import PERSONAL_TYPES, IdentifierType

DEFAULT_MAX_GROUP_SIZE = 100
NAME = re.compile(r"^[a-z][a-z0-9_]{1,19}$")


@dataclass(frozen=True)
class TypeRule:
    name: str
    unique_per_member: bool
    max_per_member: int | None  # None: no maximum
    builtin: bool = True

    @property
    def limit(self) -> int | None:
        """How many identifiers of this type one member may hold."""
        return 1 if self.unique_per_member else self.max_per_member


BUILTIN_RULES: dict[str, TypeRule] = {
    rule.name: rule
    for rule in (
        TypeRule(IdentifierType.PHONE, True, 1),
        TypeRule(IdentifierType.EMAIL, True, 1),
        TypeRule(IdentifierType.ACCOUNT_ID, True, 1),
        TypeRule(IdentifierType.MEMBER_CARD, True, 1),
        TypeRule(IdentifierType.DEVICE_ID, False, 10),
        TypeRule(IdentifierType.ANONYMOUS_ID, False, 50),
        TypeRule(IdentifierType.WECHAT_UNIONID, False, 5),
        TypeRule(IdentifierType.PAYMENT_ID, False, 10),
    )
}


@dataclass
class Rules:
    """The effective rules of one organisation: built-in types, overrides and custom types."""

    types: dict[str, TypeRule] = field(default_factory=lambda: dict(BUILTIN_RULES))
    max_group_size: int = DEFAULT_MAX_GROUP_SIZE

    def known_types(self) -> frozenset[str]:
        """Every identifier type name these rules accept."""
        return frozenset(self.types)


@dataclass
class GroupSummary:
    """What a group holds: profile count and, per type, the identifier hashes."""

    profiles: int = 0
    identifiers: dict[str, set[str]] = field(default_factory=dict)
    known: bool = False

    def add(self, identifier_type: str, value_hash: str) -> None:
        self.identifiers.setdefault(identifier_type, set()).add(value_hash)
        if identifier_type in PERSONAL_TYPES:
            self.known = True

    def union(self, other: GroupSummary) -> GroupSummary:
        """What both groups hold together (a new summary)."""
        merged = GroupSummary()
        merged.absorb(self)
        merged.absorb(other)
        return merged

    def absorb(self, other: GroupSummary) -> None:
        """Add what the other group holds to this one (in place)."""
        self.profiles += other.profiles
        self.known = self.known or other.known
        for kind, hashes in other.identifiers.items():
            mine = self.identifiers.get(kind)
            if mine is None:
                self.identifiers[kind] = set(hashes)
            else:
                mine.update(hashes)


@dataclass(frozen=True)
class Violation:
    kind: ConflictKind
    identifier_type: str | None
    detail: str


def check_union(
    rules: Rules, left: GroupSummary, right: GroupSummary, *, bounds: bool = True
) -> Violation | None:
    """Why the two groups may not become one member, or None.

    `bounds=False` (an operator's force merge) skips the maximums and the group size; two
    values of a unique type are always refused.
    """
    for kind in sorted(set(left.identifiers) & set(right.identifiers)):
        rule = rules.types.get(kind)
        if rule is None or not rule.unique_per_member:
            continue
        if left.identifiers[kind] != right.identifiers[kind]:
            return Violation(
                ConflictKind.UNIQUE_TYPE, kind, f"the two sides hold different {kind} values"
            )
    if not bounds:
        return None
    for kind in sorted(set(left.identifiers) | set(right.identifiers)):
        rule = rules.types.get(kind)
        limit = rule.limit if rule else None
        if limit is None:
            continue
        count = len(left.identifiers.get(kind, set()) | right.identifiers.get(kind, set()))
        if count > limit:
            return Violation(
                ConflictKind.MAX_PER_MEMBER,
                kind,
                f"{count} {kind} identifiers would exceed the maximum of {limit}",
            )
    if left.profiles + right.profiles > rules.max_group_size:
        return Violation(
            ConflictKind.GROUP_SIZE,
            None,
            f"{left.profiles + right.profiles} profiles would exceed the maximum group size "
            f"of {rules.max_group_size}",
        )
    return None


def build_rules(
    overrides: Iterable[tuple[str, bool, int | None]], max_group_size: int | None
) -> Rules:
    """Built-in rules with an organisation's overrides and custom types applied."""
    types = dict(BUILTIN_RULES)
    for name, unique, maximum in overrides:
        types[name] = TypeRule(name, unique, maximum, builtin=name in BUILTIN_RULES)
    return Rules(types, max_group_size or DEFAULT_MAX_GROUP_SIZE)


def summary_of(identifiers: Mapping[str, Iterable[str]], profiles: int) -> GroupSummary:
    """A group summary from {type: hashes}."""
    summary = GroupSummary(profiles=profiles)
    for kind, hashes in identifiers.items():
        for value_hash in hashes:
            summary.add(kind, value_hash)
    return summary
