"""Exports leave out every member without marketing consent, counted and audit-logged."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.members import consent as member_consent
from newretail.members.models import ConsentSource, IdentifierType, Member, MemberIdentifier
from tests.audiences.test_api import API, AS_OF, presale
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org


def _hashes(container: Container, org: Org, members: list[str]) -> list[tuple[str, str]]:
    with session_scope(container.sessions, org.id) as session:
        rows = session.execute(
            select(MemberIdentifier.identifier_type, MemberIdentifier.value_hash).where(
                MemberIdentifier.member_id.in_([uuid.UUID(m) for m in members])
            )
        ).all()
    return sorted((str(t), str(h)) for t, h in rows)


def _withdraw(container: Container, org: Org, member_id: str) -> None:
    with session_scope(container.sessions, org.id) as session:
        member = session.get(Member, uuid.UUID(member_id))
        assert member is not None
        member_consent.apply_consent(
            session,
            member,
            member_consent.marketing_everywhere(False),
            source=ConsentSource.API,
            actor="test",
        )


@pytest.fixture
def audience(client: TestClient, container: Container, org: Org) -> tuple[str, list[str]]:
    ids = make_members(container, org, 8)  # every other member (0, 2, 4, 6) consents
    load_events(container, cart_history(org, ids, AS_OF - timedelta(days=1), set(ids[6:])))
    client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 2})
    made = client.post(f"{API}", headers=org.auth(), json={"name": "x", "rules": presale(org)})
    client.post(f"{API}/{made.json()['id']}/refresh?as_of={AS_OF}", headers=org.auth())
    return made.json()["id"], ids


def test_export_excludes_consent_withdrawn_after_the_audience_was_built(
    client: TestClient, container: Container, org: Org, audience: tuple[str, list[str]]
) -> None:
    audience_id, ids = audience
    h = org.auth()
    first = client.post(f"{API}/{audience_id}/exports", headers=h, json={"format": "csv"})
    assert first.status_code == 200, first.text
    assert (first.headers["x-members"], first.headers["x-exported-members"]) == ("6", "3")
    assert first.headers["x-excluded-members"] == "3"
    rows = list(csv.reader(io.StringIO(first.text)))
    assert rows[0] == ["identifier_type", "value_hash"]
    assert sorted(tuple(r) for r in rows[1:]) == _hashes(container, org, [ids[0], ids[2], ids[4]])
    assert [r[0] for r in rows[1:]] == ["member_card"] * 3 + ["phone"] * 3

    _withdraw(container, org, ids[2])  # after the audience was built
    second = client.post(
        f"{API}/{audience_id}/exports",
        headers=h,
        json={"format": "parquet", "identifier_types": ["phone"]},
    )
    assert second.status_code == 200, second.text
    assert second.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(pa.BufferReader(second.content))
    assert table.column_names == ["identifier_type", "value_hash"]
    expected = [h for h in _hashes(container, org, [ids[0], ids[4]]) if h[0] == "phone"]
    assert (
        sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
        == expected
    )
    assert (second.headers["x-exported-members"], second.headers["x-excluded-members"]) == (
        "2",
        "4",
    )
    sms = client.post(f"{API}/{audience_id}/exports", headers=h, json={"consent_channel": "sms"})
    assert sms.headers["x-exported-members"] == "2"

    log = client.get(f"{API}/{audience_id}/exports", headers=h).json()
    every = [str(t) for t in IdentifierType]
    assert [
        (
            e["file_format"],
            e["identifier_types"],
            e["consent_channel"],
            e["members"],
            e["exported_members"],
            e["excluded_members"],
        )
        for e in log
    ] == [
        ("csv", every, "sms", 6, 2, 4),
        ("parquet", ["phone"], None, 6, 2, 4),
        ("csv", every, None, 6, 3, 3),
    ]
    assert {e["actor"] for e in log} == {log[0]["actor"]}
    assert log[0]["actor"].startswith("api")


def test_exports_need_marketing_rights_and_a_crowd(
    client: TestClient, org: Org, audience: tuple[str, list[str]]
) -> None:
    from newretail.tenancy.models import Role
    from tests.conftest import api_key_for

    audience_id, _ = audience
    analyst = api_key_for(client, org, Role.ANALYST)
    denied = client.post(f"{API}/{audience_id}/exports", headers=org.auth(analyst), json={})
    assert denied.status_code == 403
    client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 7})
    refused = client.post(f"{API}/{audience_id}/exports", headers=org.auth(), json={})
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "below_privacy_floor",
        "message": "the audience has fewer members than the minimum crowd size (7)",
        "field": "audience_id",
    }
    assert client.get(f"{API}/{audience_id}/exports", headers=org.auth()).json() == []
