"""The server's delivery port on each channel (exactly the rows written, in the caller's
transaction), and the member inbox: its API (pages, text in the reader's language, read
marks, other organisations) and the member 360 page's section."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import scope_session, session_scope
from newretail.core.settings import Settings
from newretail.reach.decide import TriggerEvent
from newretail.reach.models import InboxMessage, ReachDecision, WebhookDelivery
from newretail.tenancy.models import Role
from tests.conftest import TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.reach.feed_helpers import Told, every_endpoint, reach_on
from tests.reach.trigger_helpers import FIRST_DAY, shanghai

OFFER = "Counter: 50 off 300"
UNTIL = "2027-11-18 00:00 UTC+08:00"  # the stage's last day (the 17th) ends at local midnight


def _written(container: Container, org: Org) -> dict[str, Any]:
    """What the port left: inbox messages and webhook deliveries, by name."""
    with session_scope(container.sessions, org.id) as session:
        messages = session.scalars(select(InboxMessage).order_by(InboxMessage.created_at)).all()
        queued = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        decision = session.scalars(select(ReachDecision)).one()
        return {
            "decision": decision,
            "messages": [
                (
                    m.channel,
                    m.member_id,
                    m.decision_id,
                    m.coupon_id,
                    m.offer_code,
                    m.offer_name,
                    m.campaign_name,
                    m.stage_name,
                    m.store_id,
                )
                for m in messages
            ],
            "deliveries": sorted(
                (d.endpoint.name, d.event_type, d.payload["decision_id"], d.payload["channel"])
                for d in queued
            ),
        }


@pytest.mark.parametrize(
    ("channel", "endpoints", "kept"),
    [
        ("sms", ["SMS gateway"], False),
        ("push", ["Push gateway"], False),
        ("inbox", [], True),
        ("store_screen", ["Counter POS"], True),
    ],
)
def test_the_port_writes_the_channels_rows_in_the_decisions_transaction(
    container: Container, org: Org, channel: str, endpoints: list[str], kept: bool
) -> None:
    told = Told()
    reach = reach_on(container, org, channel, told)
    every_endpoint(container, org, reach.store_id)
    member = reach.members[0]
    assert reach.trigger(member, shanghai(FIRST_DAY, "12:00")) == ["treated"]
    written = _written(container, org)
    decision = written["decision"]
    assert written["deliveries"] == [
        (name, "offer.delivered", str(decision.id), channel) for name in endpoints
    ]
    expected = (
        channel,
        member,
        decision.id,
        decision.coupon_id,
        "COUNTER50",
        OFFER,
        "Double 11 at the counter",
        "Counter week",
        reach.store_id,
    )
    assert written["messages"] == ([expected] if kept else [])
    # only the counter screen wakes its store's feeds, once, after the commit
    assert told.told == ([(org.id, reach.store_id)] if channel == "store_screen" else [])


@pytest.mark.parametrize("channel", ["sms", "inbox", "store_screen"])
def test_a_rolled_back_decision_leaves_no_message_no_delivery_and_wakes_no_screen(
    container: Container, org: Org, channel: str
) -> None:
    told = Told()
    reach = reach_on(container, org, channel, told)
    every_endpoint(container, org, reach.store_id)
    event = TriggerEvent(
        organization_id=org.id,
        event_id="evt-rolled-back",
        event_type="counter_approach",
        member_id=reach.members[0],
        store_id=reach.store_id,
        occurred_at=shanghai(FIRST_DAY, "12:00"),
        properties={},
    )
    reach.clock.now = event.occurred_at
    session = scope_session(container.sessions(), org.id)
    try:
        assert [d.reason for d in reach.engine.decide(session, event)] == ["treated"]
        inside = (
            session.scalar(select(func.count()).select_from(InboxMessage)),
            session.scalar(select(func.count()).select_from(WebhookDelivery)),
        )
        assert inside == {"sms": (0, 1), "inbox": (1, 0), "store_screen": (1, 1)}[channel]
        session.rollback()
    finally:
        session.close()
    with session_scope(container.sessions, org.id) as session:
        for table in (InboxMessage, WebhookDelivery, ReachDecision):
            assert session.scalar(select(func.count()).select_from(table)) == 0
    assert told.told == []


def _inbox(client: TestClient, org: Org, member: uuid.UUID, **params: Any) -> Any:
    headers = {**org.auth(), **params.pop("headers", {})}
    return client.get(f"/api/v1/reach/members/{member}/inbox", headers=headers, params=params)


def test_the_inbox_pages_in_the_readers_language_and_keeps_the_first_read(
    client: TestClient, container: Container, org: Org, other_org: Org
) -> None:
    reach = reach_on(container, org, "inbox")
    member, other_member = reach.members[0], reach.members[1]
    for minute in ("12:00", "12:01", "12:02"):
        assert reach.trigger(member, shanghai(FIRST_DAY, minute)) == ["treated"]
    assert reach.trigger(other_member, shanghai(FIRST_DAY, "12:03")) == ["treated"]

    first = _inbox(client, org, member, limit=2)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [m["sent_at"] for m in page["items"]] == [
        "2027-11-11T04:00:00Z",
        "2027-11-11T04:01:00Z",
    ]
    message = page["items"][0]
    assert {k: v for k, v in message.items() if k not in ("id", "coupon_id")} == {
        "channel": "inbox",
        "campaign": "Double 11 at the counter",
        "stage": "Counter week",
        "offer_code": "COUNTER50",
        "offer_name": OFFER,
        "store": "Store 1",
        "title": f"A coupon for you: {OFFER}",
        "body": f"Double 11 at the counter · Counter week: {OFFER} (code COUNTER50), "
        f"valid until {UNTIL}.",
        "sent_at": "2027-11-11T04:00:00Z",
        "expires_at": "2027-11-17T16:00:00Z",
        "read_at": None,
    }
    rest = _inbox(client, org, member, limit=2, cursor=page["next_cursor"]).json()
    assert ([m["sent_at"] for m in rest["items"]], rest["next_cursor"]) == (
        ["2027-11-11T04:02:00Z"],
        None,
    )
    chinese = _inbox(client, org, member, limit=1, headers={"Accept-Language": "zh-CN"})
    assert (chinese.json()["items"][0]["title"], chinese.json()["items"][0]["body"]) == (
        f"送您一张优惠券：{OFFER}",
        f"Double 11 at the counter · Counter week：{OFFER}（券码 COUNTER50），有效期至 {UNTIL}。",
    )

    read_url = f"/api/v1/reach/members/{member}/inbox/{message['id']}/read"
    marked = client.post(read_url, headers=org.auth())
    assert marked.status_code == 200, marked.text
    read_at = marked.json()["read_at"]
    assert read_at is not None
    assert client.post(read_url, headers=org.auth()).json()["read_at"] == read_at
    assert _inbox(client, org, member, limit=1).json()["items"][0]["read_at"] == read_at

    theirs = _inbox(client, org, other_member).json()["items"]
    assert len(theirs) == 1
    crossed = client.post(
        f"/api/v1/reach/members/{member}/inbox/{theirs[0]['id']}/read", headers=org.auth()
    )
    assert (crossed.status_code, crossed.json()["code"], crossed.json()["field"]) == (
        404,
        "inbox_message_not_found",
        "message_id",
    )
    analyst = api_key_for(client, org, Role.ANALYST)
    assert client.post(read_url, headers=org.auth(analyst)).status_code == 403
    assert _inbox(client, org, member, headers=org.auth(analyst)).status_code == 200

    elsewhere = _inbox(client, other_org, member)
    assert (elsewhere.status_code, elsewhere.json()["field"]) == (404, "member_id")
    assert client.post(read_url, headers=other_org.auth()).status_code == 404
    bad = _inbox(client, org, member, cursor="nonsense")
    assert (bad.status_code, bad.json()["field"]) == (422, "query.cursor")


def test_the_member_page_shows_the_inbox(
    client: TestClient, container: Container, org: Org
) -> None:
    reach = reach_on(container, org, "store_screen")
    member, quiet = reach.members[0], reach.members[1]
    assert reach.trigger(member, shanghai(FIRST_DAY, "12:00")) == ["treated"]
    console_login(client, org.owner_email)
    page = client.get(f"/console/members/{member}")
    assert page.status_code == 200, page.text
    section = page.text.split('id="member-inbox"', 1)[1].split("</section>", 1)[0]
    assert f"Your coupon from the counter: {OFFER}" in section
    assert "2027-11-11 12:00" in section and "Store screen" in section and "Unread" in section
    chinese = client.get(f"/console/members/{member}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200
    assert "消息箱" in chinese.text and f"专柜送您的优惠券：{OFFER}" in chinese.text
    empty = client.get(f"/console/members/{quiet}")
    assert 'id="member-inbox-empty"' in empty.text
    assert "No inbox messages yet." in empty.text


def test_the_inbox_from_the_command_line(
    container: Container, settings: Settings, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    reach = reach_on(container, org, "inbox")
    member = reach.members[0]
    for minute in ("12:00", "12:01"):
        assert reach.trigger(member, shanghai(FIRST_DAY, minute)) == ["treated"]
    command = [*store_args(settings), "reach", "inbox", str(member), "--org", org.slug]
    result = CliRunner().invoke(app, [*command, "--lang", "zh-CN", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [(m["sent_at"], m["title"], m["store"]) for m in shown] == [
        ("2027-11-11T04:00:00Z", f"送您一张优惠券：{OFFER}", "Store 1"),
        ("2027-11-11T04:01:00Z", f"送您一张优惠券：{OFFER}", "Store 1"),
    ]
    unknown = CliRunner().invoke(
        app, [*store_args(settings), "reach", "inbox", str(uuid.uuid4()), "--org", org.slug]
    )
    assert unknown.exit_code == 2
    assert "[not_found] member_id: member not found" in unknown.stderr
