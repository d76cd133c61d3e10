"""Pure rules: the bulk resolver agrees with the canonical partition of graph.py."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.identity.bulk import resolve_links
from newretail.identity.graph import Edge, canonical_partition
from newretail.identity.models import ConflictKind
from newretail.identity.rules import GroupSummary, build_rules, check_union, summary_of

SECRET = b"s" * 32
IDENTIFIERS = (
    [("phone", f"+86138001380{n:02d}") for n in range(3)]
    + [("email", f"p{n}@example.com") for n in range(2)]
    + [("device_id", f"d{n}") for n in range(5)]
    + [("anonymous_id", f"a{n}") for n in range(5)]
)
links = st.lists(st.tuples(st.sampled_from(IDENTIFIERS), st.sampled_from(IDENTIFIERS)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(links=links, devices=st.integers(1, 3), group=st.integers(2, 6))
def test_bulk_resolution_equals_the_canonical_partition(
    links: list[tuple[tuple[str, str], tuple[str, str]]], devices: int, group: int
) -> None:
    rules = build_rules([("device_id", False, devices)], group)
    bulk = resolve_links(SECRET, rules, links)
    summaries = {}
    keys = {}
    for node, (kind, _value) in enumerate(bulk.identifiers):
        summaries[node] = summary_of({kind: [bulk.hashes[node]]}, 1)
        keys[node] = f"{kind}:{bulk.hashes[node]}"
    index = {identifier: n for n, identifier in enumerate(bulk.identifiers)}
    edges = [Edge(index[a], index[b]) for a, b in links if a != b]
    expected = canonical_partition(rules, summaries, keys, edges)
    found = {frozenset(nodes) for nodes in bulk.groups().values()}
    assert found == expected.groups()
    assert len(bulk.conflicts) == len(expected.refused)
    for nodes in found:
        kinds = [bulk.identifiers[n][0] for n in nodes]
        assert kinds.count("phone") <= 1 and kinds.count("email") <= 1
        assert kinds.count("device_id") <= devices and len(nodes) <= group


def test_check_union_explains_each_rule() -> None:
    rules = build_rules([], 3)
    phone_a = summary_of({"phone": ["h1"]}, 1)
    phone_b = summary_of({"phone": ["h2"], "device_id": ["d1"]}, 2)
    refused = check_union(rules, phone_a, phone_b)
    assert refused is not None
    assert (refused.kind, refused.identifier_type) == (ConflictKind.UNIQUE_TYPE, "phone")
    assert check_union(rules, phone_a, summary_of({"phone": ["h1"]}, 1)) is None
    many = summary_of({"device_id": [f"d{n}" for n in range(10)]}, 1)
    over = check_union(rules, many, summary_of({"device_id": ["d99"]}, 1))
    assert over is not None and over.detail == (
        "11 device_id identifiers would exceed the maximum of 10"
    )
    assert check_union(rules, many, summary_of({"device_id": ["d99"]}, 1), bounds=False) is None
    big = check_union(rules, GroupSummary(profiles=2), GroupSummary(profiles=2))
    assert big is not None and big.kind == ConflictKind.GROUP_SIZE
