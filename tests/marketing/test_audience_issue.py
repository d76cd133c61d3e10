"""Bulk issue of a stage's offer to a saved audience's stored members through the API: a
background job whose progress is read back by id (SQLite and PostgreSQL, exact values)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Budget, Coupon
from tests.audiences.test_api import AS_OF, presale
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org
from tests.marketing.bulk_helpers import a_campaign


def finished(client: TestClient, org: Org, job_id: str) -> dict[str, Any]:
    for _ in range(300):
        job = client.get(f"/api/v1/marketing/bulk-issues/{job_id}", headers=org.auth()).json()
        if job["status"] != "running":
            return dict(job)
        time.sleep(0.1)
    raise AssertionError("the bulk issue did not finish in 30 s")


def test_a_stage_offer_issued_to_an_audience_in_the_background(
    client: TestClient, container: Container, org: Org
) -> None:
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, AS_OF - timedelta(days=1), set(ids[6:])))
    client.put("/api/v1/audiences/settings", headers=org.auth(), json={"min_crowd_size": 2})
    audience = client.post(
        "/api/v1/audiences", headers=org.auth(), json={"name": "carts", "rules": presale(org)}
    ).json()
    refreshed = client.post(
        f"/api/v1/audiences/{audience['id']}/refresh?as_of={AS_OF}", headers=org.auth()
    )
    assert refreshed.json()["size"] == 6
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=4)
        campaign_id, stage_id = made.campaign.id, made.campaign.stages[0].id
    url = f"/api/v1/marketing/campaigns/{campaign_id}/stages/{stage_id}/bulk-issues"
    body = {"offer_code": "D11", "audience_id": audience["id"]}

    none = client.post(url, headers=org.auth(), json={"offer_code": "D11"})
    assert (none.status_code, none.json()["field"]) == (422, "audience_id")
    started = client.post(url, headers=org.auth(), json=body)
    assert started.status_code == 202, started.text
    assert (started.json()["total"], started.json()["campaign"], started.json()["stage"]) == (
        6,
        "Double 11",
        "Main day",
    )
    job = finished(client, org, started.json()["id"])
    summary = {k: job[k] for k in ("status", "total", "done", "issued", "already_held")}
    assert summary == {"status": "done", "total": 6, "done": 6, "issued": 4, "already_held": 0}
    assert (job["refused_budget"], job["refused"], job["error"]) == (2, {"budget_spent": 2}, None)
    assert job["audience_ids"] == [audience["id"]]

    again = finished(client, org, client.post(url, headers=org.auth(), json=body).json()["id"])
    assert (again["issued"], again["already_held"], again["refused_budget"]) == (0, 4, 2)
    with session_scope(container.sessions, org.id) as session:
        holders = session.scalars(select(Coupon.member_id).order_by(Coupon.member_id)).all()
        assert [str(h) for h in holders] == sorted(ids[:6])[:4]
        assert session.scalar(select(Budget.issued)) == 4
    missing = client.get(f"/api/v1/marketing/bulk-issues/{uuid.uuid4().hex}", headers=org.auth())
    assert (missing.status_code, missing.json()["field"]) == (404, "job_id")
