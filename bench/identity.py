"""OneID throughput: identifier links resolved per second, against a plain union-find.

Runs alone: `.venv/bin/python bench/identity.py [--quick]`. The last line is one JSON object.

1. Bulk resolution (`seconds`, `links_per_s`): 1,000,000 links between the identifiers of
   400,000 people (1-3 anonymous ids, 1-2 devices, a phone for 60 %, and one device in 200
   shared by two people, which the unique-phone rule keeps apart) go through
   `identity.bulk.resolve_links`: every identifier hashed with HMAC-SHA256, the links sorted
   into the canonical order, and the rule-checked union-find. The baseline
   (`baseline_seconds`, `ratio_to_baseline`) is a plain union-find over the same pairs of
   strings in the same run: no hashing, no ordering, no rules.
2. Writing that result (`write_seconds`, `write_rows_per_s`): one member per group and one
   identifier row per identifier into a fresh SQLite operational store (executemany),
   committed. Not part of `seconds`.
3. The collector's hot path on the same SQLite store (`cached_lookups_per_s`,
   `new_profiles_per_s`): `IdentityResolver.resolve_batch` with 100-event batches of two
   identifiers (10,000 events), first all new (profiles created in bulk, linked and
   merged), then all known (answered from the in-process cache), five times.

`--quick` uses a tenth of the links and people.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

AT = datetime(2026, 11, 20, tzinfo=UTC)


def make_links(
    people: int, target: int, seed: int = 7
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Chains anonymous ids - devices - phone per person, until `target` links."""
    rng = random.Random(seed)
    links: list[tuple[tuple[str, str], tuple[str, str]]] = []
    person = 0
    shared: tuple[str, str] | None = None
    while len(links) < target:
        p = person % people
        chain = [("anonymous_id", f"a{p}-{k}-{person // people}") for k in range(rng.randint(1, 3))]
        chain += [("device_id", f"d{p}-{k}") for k in range(rng.randint(1, 2))]
        if p % 200 == 0:  # a family tablet shared with the next such person
            if shared is not None:
                chain.append(shared)
            shared = ("device_id", f"family-{p}")
            chain.append(shared)
        if rng.random() < 0.6:
            chain.append(("phone", f"+86138{p:08d}"))
        links.extend(itertools.pairwise(chain))
        person += 1
    return links[:target]


def plain_union_find(links: list[tuple[tuple[str, str], tuple[str, str]]]) -> int:
    """The baseline: connected components of the same pairs, nothing else."""
    index: dict[tuple[str, str], int] = {}
    parent: list[int] = []

    def node(key: tuple[str, str]) -> int:
        found = index.get(key)
        if found is None:
            found = index[key] = len(parent)
            parent.append(found)
        return found

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for left, right in links:
        a, b = find(node(left)), find(node(right))
        if a != b:
            parent[b] = a
    return len({find(x) for x in range(len(parent))})


def prepare_store(folder: Path) -> tuple[Any, uuid.UUID]:
    from newretail.bootstrap import bootstrap
    from newretail.core import migrate
    from newretail.core.database import scope_session, session_scope
    from newretail.core.settings import Settings
    from newretail.tenancy import service

    settings = Settings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'newretail.sqlite3'}",
        warehouse_url=f"duckdb://{folder / 'warehouse.duckdb'}",
        secret_key="bench-secret-" + "x" * 40,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
    )
    engine = create_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    engine.dispose()
    container = bootstrap(settings)
    with session_scope(container.sessions) as session:
        created = service.create_organization(
            scope_session(session, None),
            "Bench",
            owner_email="bench@example.com",
            owner_password="bench password 123",  # noqa: S106 (a throw-away store)
            slug=f"bench-{uuid.uuid4().hex[:6]}",
        )
        organization_id = created.organization.id
    return container, organization_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    people, target = 400_000 // scale, 1_000_000 // scale
    load_start = os.getloadavg()[0]

    from newretail.core.database import session_scope
    from newretail.identity.bulk import resolve_links, write_result
    from newretail.identity.rules import build_rules
    from newretail.members.identifiers import member_settings

    links = make_links(people, target)

    started = time.perf_counter()
    baseline_groups = plain_union_find(links)
    baseline_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as temp:
        container, organization_id = prepare_store(Path(temp))
        with session_scope(container.sessions, organization_id) as session:
            secret = member_settings(session, organization_id).identifier_secret
        rules = build_rules([], None)

        started = time.perf_counter()
        result = resolve_links(secret, rules, links)
        seconds = time.perf_counter() - started
        groups = len(result.groups())

        print(f"resolved {len(links)} links in {seconds:.2f} s", file=sys.stderr)
        started = time.perf_counter()
        with session_scope(container.sessions, organization_id) as session:
            members = write_result(session, organization_id, result, AT)
        write_seconds = time.perf_counter() - started
        rows = members + len(result.identifiers)

        print(f"wrote {rows} rows in {time.perf_counter() - started:.2f} s", file=sys.stderr)
        resolver = container.identity
        events = 10_000 // scale
        batches = [
            [
                [("anonymous_id", f"hot-{n}"), ("device_id", f"hot-dev-{n}")]
                for n in range(start, start + 100)
            ]
            for start in range(0, events, 100)
        ]
        started = time.perf_counter()
        for batch in batches:
            resolver.resolve_batch(organization_id, batch, AT)
        new_seconds = time.perf_counter() - started
        rounds = 5
        started = time.perf_counter()
        for _ in range(rounds):
            for batch in batches:
                resolver.resolve_batch(organization_id, batch, AT)
        cached_seconds = time.perf_counter() - started
        container.close()

    report = {
        "links": len(links),
        "people": people,
        "identifiers": len(result.identifiers),
        "groups": groups,
        "baseline_groups": baseline_groups,
        "conflicts": len(result.conflicts),
        "seconds": round(seconds, 3),
        "links_per_s": round(len(links) / seconds),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio_to_baseline": round(seconds / baseline_seconds, 2),
        "write_seconds": round(write_seconds, 3),
        "write_rows_per_s": round(rows / write_seconds),
        "new_profiles_per_s": round(events * 2 / new_seconds),
        "cached_lookups_per_s": round(rounds * events * 2 / cached_seconds),
        "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
