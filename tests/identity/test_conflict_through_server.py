"""Issue 11's reproduction through a real server with the event loader running: identify an
account A with phone P, anonymous views, identify and alias joining them to A, then identify a
new account B with the same phone P. The official Segment SDK sends one request per call, 50
times, with random delays injected between the calls, before the loader, before each
resolution and before each merge's warehouse update. Every time, A's member keeps its three
profiles and every event, B stays apart, and the conflict is listed with both members."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from segment.analytics.client import Client as SegmentClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity import service
from newretail.members.models import Member
from tests.conftest import Org
from tests.events.test_segment import rows, server  # noqa: F401 (the fixture)
from tests.identity.conftest import AT
from tests.members.conftest import owner_of

RUNS = int(os.environ.get("NEWRETAIL_TEST_CONFLICT_RUNS", "50"))


def _delayed(function: Callable[..., Any], rng: random.Random, *delays: float) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        time.sleep(rng.choice(delays))
        return function(*args, **kwargs)

    return wrapper


def _open_conflicts(url: str, org: Org) -> list[dict[str, Any]]:
    """Every open conflict, as the API lists them (page after page)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "open", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{url}/api/v1/identity/conflicts", params=params, headers=org.auth())
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return found


def _profiles(container: Container, org: Org, member_id: uuid.UUID) -> list[str]:
    """The identifier types of the member's profiles (one identifier each), from the store."""
    with session_scope(container.sessions, org.id) as session:
        found = service.member_identities(session, owner_of(org), member_id)
        assert found.profiles == sum(i.count for i in found.identifiers)
        return sorted(i.type for i in found.identifiers for _ in range(i.count))


def test_a_new_account_with_a_merged_members_phone_takes_nothing_away(
    server: tuple[str, Any],  # noqa: F811
    container: Container,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, app = server
    rng = random.Random(11)
    resolver = container.identity
    pipeline = app.state.collector.pipeline
    monkeypatch.setattr(resolver, "resolve_batch", _delayed(resolver.resolve_batch, rng, 0, 0.02))
    monkeypatch.setattr(
        resolver, "_run_warehouse", _delayed(resolver._run_warehouse, rng, 0, 0, 0.03)
    )
    monkeypatch.setattr(pipeline, "_load", _delayed(pipeline._load, rng, 0, 0.01, 0.05))
    errors: list[Any] = []
    sdk = SegmentClient(
        org.write_key,
        host=url,
        gzip=True,
        sync_mode=True,  # one request per call
        on_error=lambda error, batch: errors.append(error),
    )
    outcomes = []
    expected_sides: set[frozenset[uuid.UUID]] = set()
    for run in range(RUNS):
        tag = f"r{run}-{uuid.uuid4().hex[:6]}"
        account_a, account_b, anonymous = f"a-{tag}", f"b-{tag}", f"x-{tag}"
        phone = f"1380013{run:04d}"
        calls: list[tuple[Callable[..., Any], dict[str, Any]]] = [
            (sdk.identify, {"user_id": account_a, "traits": {"phone": phone}}),
            (sdk.track, {"anonymous_id": anonymous, "event": "Product Viewed"}),
            (sdk.page, {"anonymous_id": anonymous, "name": "Home"}),
            (sdk.identify, {"user_id": account_a, "anonymous_id": anonymous}),
            (sdk.alias, {"previous_id": anonymous, "user_id": account_a}),
            (sdk.identify, {"user_id": account_b, "traits": {"phone": phone}}),
        ]
        for n, (call, arguments) in enumerate(calls, start=1):
            call(message_id=f"{tag}-{n}", **arguments)
            time.sleep(rng.choice([0, 0, 0.01, 0.05, 0.2]))  # loader batches split anywhere
        assert errors == []
        stored = {r["message_id"]: r["member_id"] for r in rows(container, org, app)}
        found = resolver.resolve_batch(
            org.id,
            [
                [("account_id", account_a)],
                [("account_id", account_b)],
                [("phone", f"+86{phone}")],
                [("anonymous_id", anonymous)],
            ],
            AT,
        )
        member_a, member_b, of_phone, of_anonymous = [r.member_id for r in found if r]
        expected_sides.add(frozenset({member_a, member_b}))
        outcomes.append(
            (
                of_phone == member_a,
                of_anonymous == member_a,
                _profiles(container, org, member_a),
                [stored.get(f"{tag}-{n}") == str(member_a) for n in range(1, 6)],
                stored.get(f"{tag}-6") == str(member_b) != str(member_a),
            )
        )
    assert (
        outcomes == [(True, True, ["account_id", "anonymous_id", "phone"], [True] * 5, True)] * RUNS
    )
    # each run's conflict is listed; its two sides are A's member and B's
    listed = _open_conflicts(url, org)
    assert [(c["kind"], c["identifier_type"]) for c in listed] == [
        ("unique_type", "account_id")
    ] * RUNS
    sides = set()
    with session_scope(container.sessions, org.id) as session:
        for conflict in listed:
            ends = [uuid.UUID(conflict["member_a"]), uuid.UUID(conflict["member_b"])]
            members = session.scalars(select(Member).where(Member.id.in_(ends))).all()
            sides.add(frozenset(m.canonical_id or m.id for m in members))
    assert sides == expected_sides
