"""Several processes resolve overlapping identifiers at once (real connections)."""

from __future__ import annotations

import multiprocessing
import random
import uuid
from pathlib import Path

from sqlalchemy import func, select

from newretail import handlers
from newretail.bootstrap import Container
from newretail.core.database import create_db_engine, make_session_factory, session_scope
from newretail.identity.models import IdentityConflict
from newretail.identity.resolver import IdentityResolver
from newretail.members.models import Member, MemberIdentifier
from newretail.warehouse.connection import Warehouse
from tests.conftest import Org
from tests.identity.conftest import AT

PEOPLE = 12


def _events() -> list[list[tuple[str, str]]]:
    """Each person: two anonymous ids, a device and a phone; person 0 and 1 share a tablet."""
    events: list[list[tuple[str, str]]] = []
    for p in range(PEOPLE):
        events += [
            [("anonymous_id", f"a{p}-0"), ("device_id", f"d{p}")],
            [("anonymous_id", f"a{p}-1"), ("device_id", f"d{p}")],
            [("device_id", f"d{p}"), ("phone", f"+86138001380{p:02d}")],
        ]
    events += [[("device_id", "tablet"), ("phone", "+8613800138000")]]
    events += [[("device_id", "tablet"), ("phone", "+8613800138001")]]
    return events


def _worker(database_url: str, warehouse: str, organization_id: str, seed: int) -> None:
    handlers.install()  # a process of its own: merges publish domain events
    engine = create_db_engine(database_url)
    resolver = IdentityResolver(make_session_factory(engine), Warehouse(warehouse))
    events = _events()
    random.Random(seed).shuffle(events)
    for start in range(0, len(events), 5):
        resolver.resolve_batch(uuid.UUID(organization_id), events[start : start + 5], AT)
    resolver.warehouse.close()
    engine.dispose()


def test_processes_resolving_the_same_identifiers_agree(
    container: Container, org: Org, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_worker,
            args=(
                container.settings.resolved_database_url,
                f"duckdb://{tmp_path / f'w{n}.duckdb'}",
                str(org.id),
                n,
            ),
        )
        for n in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    container.identity.invalidate()
    identifiers = sorted({i for event in _events() for i in event})
    found = container.identity.resolve_batch(org.id, [[i] for i in identifiers], AT)
    groups: dict[uuid.UUID, set[str]] = {}
    for identifier, resolved in zip(identifiers, found, strict=True):
        assert resolved is not None
        groups.setdefault(resolved.member_id, set()).add(identifier[1])
    people = sorted(sorted(g) for g in groups.values())
    expected_others = [
        sorted([f"a{p}-0", f"a{p}-1", f"d{p}", f"+86138001380{p:02d}"]) for p in range(2, PEOPLE)
    ]
    assert [g for g in people if g in expected_others] == sorted(expected_others)
    assert len(groups) == PEOPLE  # the tablet joined one of the two phones
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Member)) == len(identifiers)
        assert session.scalar(select(func.count()).select_from(MemberIdentifier)) == len(
            identifiers
        )
        assert session.scalar(select(func.count()).select_from(IdentityConflict)) == 1
