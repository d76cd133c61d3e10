"""A member's export holds everything held about them, section by section, through the API,
the console and the CLI; owners and admins only; every request audited."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from newretail.audiences.tables import AUDIENCE_MEMBER_SCHEMA, AUDIENCE_MEMBER_TABLE, open_warehouse
from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.members import consent, points
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
from newretail.members.models import ConsentChannel, ConsentSource
from newretail.orders import pos
from newretail.privacy.export import SECTIONS
from newretail.privacy.models import MemberDataRequest
from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for, console_login, store_args
from tests.orders.factory import build_shop
from tests.orders.test_points import earn_rules, sale
from tests.reach.feed_helpers import reach_on
from tests.reach.trigger_helpers import FIRST_DAY, shanghai
from tests.timelines.events import load, row

PHONE = "+8613800138000"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def rich(container: Container, org: Org) -> dict[str, Any]:
    """A member with a profile, two consent changes, a POS order (points earned), a points
    grant, a coupon from a treated campaign decision with its inbox message, two events and
    an audience membership; and a neighbour with an event of their own."""
    shop = build_shop(container, org, stock=5)
    earn_rules(container, shop)
    reach = reach_on(container, org, "inbox")
    member, neighbour = reach.members[0], reach.members[1]
    with session_scope(container.sessions, org.id) as session:
        members_service.update_member(
            session,
            shop.principal,
            member,
            member_schemas.MemberUpdate(
                name="Han Meimei", phone="138 0013 8000", email="han@example.com", city="Shanghai"
            ),
        )
        for channel, granted in ((ConsentChannel.SMS, False), (ConsentChannel.WECHAT, True)):
            consent.set_consent(
                session,
                shop.principal,
                member,
                [member_schemas.ConsentItem(channel=channel, granted=granted)],
                source=ConsentSource.CONSOLE,
            )
        points.grant_points(session, org.id, member, points=88, actor="tester", reason="welcome")
    with session_scope(container.sessions, org.id) as session:
        placed = pos.pos_sale(session, shop.principal, sale(shop, "C-9", member_id=str(member)))
        order_id = placed.order.id
    assert reach.trigger(member, shanghai(FIRST_DAY, "12:00")) == ["treated"]
    load(
        container,
        [
            row(org.id, member, "m-01", "product_view", at("2026-03-02T12:00"), channel="online"),
            row(
                org.id,
                member,
                "m-02",
                "counter_approach",
                at("2026-03-03T09:00"),
                store_id=org.store_ids[1],
                properties={"distance_m": 1.5},
            ),
            row(org.id, neighbour, "m-03", "product_view", at("2026-03-02T12:00")),
        ],
    )
    stored = [
        {
            "organization_id": str(org.id),
            "audience_id": str(reach.audience_id),
            "version": version,
            "member_id": str(who),
            "since": at("2026-03-01T00:00"),
        }
        for who, version in ((member, "v1"), (neighbour, "v1"), (member, "v0"))
    ]
    with open_warehouse(container.warehouse) as con:
        table = pa.Table.from_pylist(stored, schema=AUDIENCE_MEMBER_SCHEMA.to_pyarrow())
        con.insert(AUDIENCE_MEMBER_TABLE, ibis.memtable(table))
    return {"member": member, "order_id": order_id, "reach": reach, "shop": shop}


def _export(client: TestClient, org: Org, member: uuid.UUID, **params: str) -> Any:
    answer = client.get(f"/api/v1/members/{member}/export", headers=org.auth(), params=params)
    assert answer.status_code == 200, answer.text
    return answer


def test_the_json_export_holds_every_section(
    client: TestClient, container: Container, org: Org, rich: dict[str, Any]
) -> None:
    member = rich["member"]
    answer = _export(client, org, member)
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"].startswith(
        f'attachment; filename="member-{member}-'
    )
    document = answer.json()
    sections = document["sections"]
    assert list(sections) == list(SECTIONS)
    assert document["counts"] == {
        "profile": 1,
        "identifiers": 2,
        "merges": 0,
        "consent": 3,
        "consent_history": 2,
        "points_balance": 1,
        "points_ledger": 2,
        "orders": 1,
        "order_lines": 2,
        "refunds": 0,
        "coupons": 1,
        "coupon_history": 1,
        "campaign_decisions": 1,
        "inbox_messages": 1,
        "audiences": 1,
        "events": 2,
    }
    profile = sections["profile"][0]
    assert (profile["name"], profile["phone"], profile["email"], profile["city"]) == (
        "Han Meimei",
        PHONE,
        "han@example.com",
        "Shanghai",
    )
    assert profile["tier"] == "Gold"  # 30.00 spent: Silver from 5, Gold from 25
    # identifiers as held: keyed hashes (64 hex characters), never the values
    assert sorted(i["type"] for i in sections["identifiers"]) == ["email", "phone"]
    for held in sections["identifiers"]:
        assert len(held["value_hash"]) == 64 and held["profile_id"] == str(member)
        assert held["hash"].startswith("HMAC-SHA256")
    assert PHONE not in json.dumps(sections["identifiers"])
    assert sorted((c["channel"], c["granted"]) for c in sections["consent"]) == [
        ("push", True),
        ("sms", False),
        ("wechat", True),
    ]
    assert [(h["channel"], h["granted"], h["source"]) for h in sections["consent_history"]] == [
        ("wechat", True, "console"),
        ("sms", False, "console"),
    ]
    assert sections["points_balance"][0]["available"] == 88
    assert sections["points_balance"][0]["locked"] == 90  # 30.00 × 1.5 × 2 (skincare)
    assert [
        (e["kind"], e["available_delta"], e["locked_delta"]) for e in sections["points_ledger"]
    ] == [
        ("adjust", 88, 0),
        ("earn", 0, 90),
    ]
    order = sections["orders"][0]
    assert (order["id"], order["total_amount"], order["items"], order["store"]) == (
        str(rich["order_id"]),
        "30.00",
        3,
        "Store 1",
    )
    assert sorted(
        (line["sku_code"], line["sku_name"], line["quantity"], line["amount"])
        for line in sections["order_lines"]
    ) == [("SKU0", "Serum 0", 2, "20.00"), ("SKU1", "Serum 1", 1, "10.00")]
    coupon = sections["coupons"][0]
    assert (coupon["offer_code"], coupon["campaign_name"], coupon["state"]) == (
        "COUNTER50",
        "Double 11 at the counter",
        "issued",
    )
    assert [c["change"] for c in sections["coupon_history"]] == ["issued"]
    decision = sections["campaign_decisions"][0]
    assert (decision["reason"], decision["campaign_name"], decision["coupon_id"]) == (
        "treated",
        "Double 11 at the counter",
        coupon["id"],
    )
    assert decision["decided_at"] == "2027-11-11T04:00:00+00:00"  # 12:00 in Shanghai
    message = sections["inbox_messages"][0]
    assert (message["offer_code"], message["coupon_id"], message["channel"]) == (
        "COUNTER50",
        coupon["id"],
        "inbox",
    )
    # the current version's membership only (v0 is an older refresh's)
    assert [(a["audience_name"], a["version"]) for a in sections["audiences"]] == [
        ("Browsed online, did not buy", "v1")
    ]
    assert sections["audiences"][0]["since"] == "2026-03-01T00:00:00+00:00"
    assert [(e["message_id"], e["type"], e["ts"]) for e in sections["events"]] == [
        ("m-01", "product_view", "2026-03-02T12:00:00+00:00"),
        ("m-02", "counter_approach", "2026-03-03T09:00:00+00:00"),
    ]
    assert sections["events"][1]["properties"] == {"distance_m": 1.5}
    assert sections["events"][1]["store"] == "Store 1"


def test_the_csv_export_is_a_zip_of_one_csv_per_section_and_every_request_is_audited(
    client: TestClient, container: Container, org: Org, rich: dict[str, Any]
) -> None:
    member = rich["member"]
    answer = _export(client, org, member, format="csv")
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    assert names == ["export.json", *(f"{n:02d}_{s}.csv" for n, s in enumerate(SECTIONS, 1))]
    about = json.loads(archive.read("export.json"))
    assert about["member_id"] == str(member) and about["counts"]["events"] == 2

    def rows(name: str) -> list[dict[str, str]]:
        text = archive.read(name).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    assert [(r["name"], r["phone"]) for r in rows("01_profile.csv")] == [("Han Meimei", PHONE)]
    assert [(r["type"], r["channel"]) for r in rows("16_events.csv")] == [
        ("product_view", "online"),
        ("counter_approach", "store"),
    ]
    assert rows("16_events.csv")[1]["properties"] == '{"distance_m": 1.5}'
    assert [r["granted"] for r in rows("05_consent_history.csv")] == ["true", "false"]
    assert rows("10_refunds.csv") == []  # a header row and nothing else
    assert archive.read("10_refunds.csv").decode("utf-8-sig").strip() == ""

    _export(client, org, member)  # a second request, as JSON
    audit = client.get(f"/api/v1/members/{member}/data-requests", headers=org.auth())
    assert audit.status_code == 200
    assert [(r["kind"], r["file_format"], r["channel"]) for r in audit.json()] == [
        ("correction", "", "cli"),  # the fixture's profile change (a correction, audited)
        ("export", "csv", "api"),
        ("export", "json", "api"),
    ]
    assert audit.json()[0]["rows"] == {"fields": ["city", "email", "name", "phone"]}
    first = audit.json()[1]
    assert first["actor"] == f"api_key:{org.owner_key[: len(first['actor']) - 8]}"
    assert first["rows"]["orders"] == 1 and first["requested_at"].endswith("Z")


@pytest.mark.parametrize("role", [Role.MARKETER, Role.ANALYST, Role.STORE_MANAGER])
def test_only_owners_and_admins_export(
    client: TestClient, container: Container, org: Org, role: Role
) -> None:
    made = client.post("/api/v1/members", headers=org.auth(), json={"phone": "13900139000"})
    member = made.json()["id"]
    key = api_key_for(client, org, role, [org.store_ids[0]] if role == Role.STORE_MANAGER else None)
    refused = client.get(f"/api/v1/members/{member}/export", headers=org.auth(key))
    assert refused.status_code == 403
    assert "members:export" in refused.json()["message"]
    admin = api_key_for(client, org, Role.ADMIN)
    assert (
        client.get(f"/api/v1/members/{member}/export", headers=org.auth(admin)).status_code == 200
    )
    with session_scope(container.sessions, org.id) as session:
        kinds = session.scalars(
            select(MemberDataRequest.channel).where(MemberDataRequest.kind == "export")
        ).all()
    assert list(kinds) == ["api"]  # the refused requests handed nothing over


def test_a_bad_format_and_an_unknown_member_are_4xx_naming_the_field(
    client: TestClient, org: Org
) -> None:
    made = client.post("/api/v1/members", headers=org.auth(), json={"phone": "13900139000"})
    member = made.json()["id"]
    bad = client.get(f"/api/v1/members/{member}/export?format=xml", headers=org.auth())
    assert bad.status_code == 422
    assert "format" in json.dumps(bad.json())
    missing = client.get(f"/api/v1/members/{uuid.uuid4()}/export", headers=org.auth())
    assert missing.status_code == 404
    assert missing.json()["field"] == "member_id"


def test_the_member_page_downloads_the_export_in_english_and_chinese(
    client: TestClient, container: Container, org: Org, rich: dict[str, Any]
) -> None:
    member = rich["member"]
    console_login(client, org.owner_email)
    page = client.get(f"/console/members/{member}")
    assert page.status_code == 200
    assert f'href="/console/members/{member}/export.json"' in page.text
    assert "Export data" in page.text and "Erase member…" in page.text
    # the fixture's profile change is audited as a correction and named under the buttons
    assert re.search(r"Corrected [^<]* \(city, e-mail, name, phone; command line\)", page.text)
    chinese = client.get(f"/console/members/{member}", headers={"Accept-Language": "zh-CN"})
    assert "导出数据" in chinese.text and "CSV（压缩包）" in chinese.text
    download = client.get(f"/console/members/{member}/export.zip")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert client.get(f"/console/members/{member}/export.xml").status_code == 404  # no such file
    again = client.get(f"/console/members/{member}", headers={"Accept-Language": "zh-CN"})
    line = again.text.split('id="member-export-audit">', 1)[1].split("</li>", 1)[0]
    assert re.fullmatch(
        r"\s*<li>\d{4}-\d\d-\d\d \d\d:\d\d 由 "
        + re.escape(org.owner_email)
        + r" 导出（CSV，控制台）",
        line,
    ), line
    with session_scope(container.sessions, org.id) as session:
        audited = session.scalars(
            select(MemberDataRequest).where(MemberDataRequest.kind == "export")
        ).all()
    assert [(r.channel, r.file_format, r.actor) for r in audited] == [
        ("console", "csv", f"user:{org.owner_email}")
    ]


def test_the_cli_writes_the_export_and_audits_it(
    container: Container, settings: Settings, org: Org, rich: dict[str, Any], tmp_path: Any
) -> None:
    out = tmp_path / "member.json"
    result = CliRunner().invoke(
        app,
        [
            *("member", "export", "138 0013 8000", "--org", org.slug),
            *("--out", str(out), "--json", *store_args(settings)),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["member_id"] == str(rich["member"]) and printed["format"] == "json"
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["counts"]["orders"] == 1 and document["counts"]["events"] == 2
    with session_scope(container.sessions, org.id) as session:
        audited = session.scalars(
            select(MemberDataRequest).where(MemberDataRequest.kind == "export")
        ).all()
    assert [(r.channel, r.file_format) for r in audited] == [("cli", "json")]


def test_a_marketer_sees_no_export_button_and_cannot_download(
    client: TestClient, container: Container, org: Org
) -> None:
    made = client.post("/api/v1/members", headers=org.auth(), json={"phone": "13900139000"})
    member = made.json()["id"]
    email = f"marketer-{org.slug}@example.com"
    user = client.post(
        "/api/v1/users",
        headers=org.auth(),
        json={"email": email, "password": "correct horse battery", "role": "marketer"},
    )
    assert user.status_code == 201, user.text
    console_login(client, email, "correct horse battery")
    page = client.get(f"/console/members/{member}")
    assert page.status_code == 200 and 'id="edit-member"' in page.text
    assert 'id="member-export"' not in page.text
    assert client.get(f"/console/members/{member}/export.json").status_code == 403
    with session_scope(container.sessions, org.id) as session:
        exports = select(MemberDataRequest).where(MemberDataRequest.kind == "export")
        assert session.scalars(exports).all() == []
