"""A member's other rights: consent withdrawal stops the realtime reach (its coupon, inbox
and webhook) at once; every correction of a profile is audited (API, console, CLI); the
console's erasure asks for a confirmation, in English and Chinese; an erasure whose warehouse
step fails stays pending and is finished later."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.members.models import ConsentChannel
from newretail.privacy import erasure
from newretail.privacy.models import MemberDataRequest
from newretail.reach.models import InboxMessage
from newretail.warehouse.sql import fetch_rows
from tests.conftest import ON_SQLITE, Org, console_login, store_args
from tests.reach.trigger_helpers import FIRST_DAY, shanghai


def _audit(container: Container, org: Org, kind: str) -> list[MemberDataRequest]:
    with session_scope(container.sessions, org.id) as session:
        return list(
            session.scalars(
                sa.select(MemberDataRequest)
                .where(MemberDataRequest.kind == kind)
                .order_by(MemberDataRequest.requested_at)
            )
        )


def test_withdrawn_consent_stops_the_realtime_reach_at_once(
    client: TestClient, container: Container, org: Org, rich: dict[str, Any]
) -> None:
    reach, member = rich["reach"], rich["member"]
    with session_scope(container.sessions, org.id) as session:
        inbox_before = session.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
    coupons_before = reach.coupons_of()
    withdrawn = client.put(
        f"/api/v1/members/{member}/consent",
        headers=org.auth(),
        json={
            "consents": [{"channel": str(c), "granted": False} for c in ConsentChannel],
            "source": "api",
        },
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # the very next trigger event, no refresh of anything in between
    later = shanghai(FIRST_DAY + timedelta(days=1), "12:00")
    assert reach.trigger(member, later) == ["no_consent"]
    assert reach.coupons_of() == coupons_before  # no coupon issued
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == (
            inbox_before
        )
    # granted again: reached again
    client.put(
        f"/api/v1/members/{member}/consent",
        headers=org.auth(),
        json={"consents": [{"channel": "wechat", "granted": True}], "source": "api"},
    )
    assert reach.trigger(member, later + timedelta(days=3)) == ["treated"]


def test_every_correction_is_audited_through_each_door(
    client: TestClient, container: Container, settings: Settings, org: Org, rich: dict[str, Any]
) -> None:
    member = rich["member"]
    answer = client.patch(
        f"/api/v1/members/{member}", headers=org.auth(), json={"city": "Hangzhou"}
    )
    assert answer.status_code == 200 and answer.json()["city"] == "Hangzhou"
    result = CliRunner().invoke(
        app,
        [
            *("member", "correct", str(member), "--org", org.slug),
            *("--name", "Han Mei", "--json", *store_args(settings)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "Han Mei"
    audit = _audit(container, org, "correction")
    assert [(a.channel, a.rows) for a in audit] == [
        ("cli", {"fields": ["city", "email", "name", "phone"]}),  # the fixture's own change
        ("api", {"fields": ["city"]}),
        ("cli", {"fields": ["name"]}),
    ]
    assert audit[1].actor.startswith("api_key:") and audit[2].actor == "operator (CLI)"
    listed = client.get(f"/api/v1/members/{member}/data-requests", headers=org.auth()).json()
    assert [r["kind"] for r in listed] == ["correction"] * 3
    refused = client.patch(f"/api/v1/members/{member}", headers=org.auth(), json={"phone": "12"})
    assert refused.status_code == 422 and len(_audit(container, org, "correction")) == 3


@ON_SQLITE
def test_the_console_erasure_asks_for_a_confirmation_in_both_languages(
    client: TestClient, container: Container, org: Org, rich: dict[str, Any]
) -> None:
    member = rich["member"]
    console_login(client, org.owner_email)
    page = client.get(f"/console/members/{member}")
    assert f'href="/console/members/{member}/erase"' in page.text
    form = client.get(f"/console/members/{member}/erase")
    assert "Erasure is irreversible" in form.text and "Erase permanently" in form.text
    chinese = client.get(f"/console/members/{member}/erase", headers={"Accept-Language": "zh-CN"})
    assert "删除不可撤销" in chinese.text and "永久删除" in chinese.text
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    unticked = client.post(f"/console/members/{member}/erase", data={"csrf_token": csrf})
    assert unticked.status_code == 422
    assert "Tick the box to confirm: an erasure cannot be undone." in unticked.text
    unticked_zh = client.post(
        f"/console/members/{member}/erase",
        data={"csrf_token": csrf},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "请勾选确认：删除后无法撤销。" in unticked_zh.text
    assert _audit(container, org, "erasure") == []
    done = client.post(
        f"/console/members/{member}/erase", data={"csrf_token": csrf, "confirm": "on"}
    )
    assert done.status_code == 200 and "Member erased" in done.text
    assert "The warehouse is anonymised too." in done.text
    [audit] = _audit(container, org, "erasure")
    assert (audit.channel, audit.actor, audit.status) == (
        "console",
        f"user:{org.owner_email}",
        "done",
    )
    assert client.get(f"/console/members/{member}").status_code == 404


@ON_SQLITE
def test_a_failed_warehouse_step_stays_pending_and_is_finished_later(
    client: TestClient,
    container: Container,
    org: Org,
    rich: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    member = rich["member"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the warehouse went away")

    monkeypatch.setattr(erasure.audiences_erasure, "forget_members", broken)
    answer = client.post(
        f"/api/v1/members/{member}/erasure", headers=org.auth(), json={"confirm": True}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "warehouse_pending"
    tombstone = answer.json()["tombstone_id"]
    monkeypatch.undo()
    # the events were anonymised before the failure; running again does it all once more
    assert erasure.finish_pending(container.sessions, container.warehouse) == 1
    assert erasure.finish_pending(container.sessions, container.warehouse) == 0
    [audit] = _audit(container, org, "erasure")
    assert audit.status == "done" and "pending_traces" not in audit.rows
    con = container.warehouse.connection()
    with container.warehouse.lock:
        owners = fetch_rows(
            con,
            "SELECT DISTINCT member_id FROM audience_member UNION ALL "  # noqa: S608
            f"SELECT DISTINCT member_id FROM event WHERE member_id = '{member}'",
        )
        events = fetch_rows(
            con,
            f"SELECT count(*) FROM event WHERE member_id = '{tombstone}'",  # noqa: S608
        )
    assert str(member) not in {o for (o,) in owners}
    assert events == [(2,)]
    # asking again once done: 409
    again = client.post(
        f"/api/v1/members/{member}/erasure", headers=org.auth(), json={"confirm": True}
    )
    assert again.status_code == 409 and again.json()["field"] == "member_id"
    assert uuid.UUID(tombstone)
