"""Public claim codes through the API and the CLI, on SQLite and PostgreSQL (exact values):
one coupon per member and stage, the claim limit, the `coupon_claim` fact."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.events.models import OutboxMessage
from newretail.marketing import bulk_issue
from newretail.marketing.models import Budget, ClaimCode, Coupon
from tests.conftest import Org, store_args
from tests.marketing.bulk_helpers import OFFER_NAME, a_campaign, members

runner = CliRunner()


def test_a_public_code_is_claimed_once_per_member_up_to_its_limit(
    client: TestClient, container: Container, org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=100)
        campaign_id, stage_id = made.campaign.id, made.campaign.stages[0].id
    codes = f"/api/v1/marketing/campaigns/{campaign_id}/stages/{stage_id}/claim-codes"
    body = {"code": "double-11", "offer_code": "D11", "claim_limit": 2}
    created = client.post(codes, headers=org.auth(), json=body)
    assert created.status_code == 201, created.text
    assert {k: v for k, v in created.json().items() if k != "created_at"} == {
        "code": "DOUBLE11",
        "campaign_name": "Double 11",
        "stage_name": "Main day",
        "offer_code": "D11",
        "claim_limit": 2,
        "claimed": 0,
    }
    again = client.post(codes, headers=org.auth(), json={**body, "code": "Double 11"})
    assert (again.status_code, again.json()["field"]) == (409, "code")
    wrong = client.post(codes, headers=org.auth(), json={**body, "offer_code": "NOPE"})
    assert wrong.status_code == 404

    first, second, third = members(3)

    def claim(member: uuid.UUID, code: str = "double11") -> tuple[int, dict[str, object]]:
        answer = client.post(
            "/api/v1/marketing/claims",
            headers=org.auth(),
            json={"code": code, "member_id": str(member)},
        )
        return answer.status_code, answer.json()

    status, claimed = claim(first)
    assert status == 201 and claimed["new"] is True
    coupon = claimed["coupon"]
    assert (coupon["offer_name"], coupon["stage_name"], coupon["member_id"], coupon["state"]) == (  # type: ignore[index]
        OFFER_NAME,
        "Main day",
        str(first),
        "issued",
    )
    status, repeated = claim(first, "DOUBLE-11")
    assert (status, repeated["new"], repeated["coupon"]["id"]) == (200, False, coupon["id"])  # type: ignore[index]
    assert claim(second)[0] == 201
    status, refused = claim(third)
    assert (status, refused["code"], refused["field"]) == (409, "claim_limit", "code")
    assert refused["message"] == "the code DOUBLE11 has been claimed as often as it allows"
    assert claim(third, "NOSUCHCODE")[0] == 404
    listed = client.get("/api/v1/marketing/claim-codes", headers=org.auth()).json()
    assert [(c["code"], c["claimed"]) for c in listed] == [("DOUBLE11", 2)]

    with session_scope(container.sessions, org.id) as session:
        facts = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "coupon_claim")
        ).all()
        assert sorted(f.member_id for f in facts) == [first, second]  # type: ignore[type-var]
        fact = next(f for f in facts if f.member_id == first)
        assert fact.properties == {
            "coupon_id": coupon["id"],  # type: ignore[index]
            "template_id": str(made.offer.id),
            "code": "DOUBLE11",
            "offer_id": str(made.offer.id),
            "offer": OFFER_NAME,
            "campaign_id": str(campaign_id),
            "stage_position": "1",
            "campaign": "Double 11",
            "stage": "Main day",
        }
        assert session.scalar(select(Budget.issued)) == 2
        # the stage's bulk issue gives the claimers nothing more (one coupon per stage)
        report = bulk_issue.issue_batch(session, made.stage(session), [first, second, third])
        assert report == bulk_issue.BulkReport(members=3, issued=1, already_held=2)


def test_claim_codes_from_the_command_line(
    container: Container, settings: Settings, org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        a_campaign(session, org.id, issue_limit=100)
    base = [*store_args(settings), "marketing"]

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, [*base, *args, "--org", org.slug, "--json"])
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.stdout))

    created = run(
        "claim-code", "Double 11", "--stage", "Main day", "--offer", "D11", "--code", "SAVE40"
    )
    assert (created["code"], created["claim_limit"], created["claimed"]) == ("SAVE40", None, 0)
    member = uuid.uuid4()
    first = run("claim", "save40", "--member", str(member))
    again = run("claim", "SAVE40", "--member", str(member))
    assert (first["new"], again["new"]) == (True, False)
    assert first["coupon"]["id"] == again["coupon"]["id"]  # type: ignore[index]
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(ClaimCode.claimed)) == 1
        assert session.scalar(select(Coupon.member_id)) == member
