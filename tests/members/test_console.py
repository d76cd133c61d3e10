"""The members console pages in English and Chinese."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.members import consent, points, schemas, service
from newretail.members.models import ConsentChannel, ConsentSource
from tests.conftest import Org, console_login
from tests.members.conftest import org_session, owner_of


def test_member_list_search_and_360_page(
    client: TestClient, container: Container, org: Org
) -> None:
    owner = owner_of(org)
    with org_session(container, org) as session:
        member = service.create_member(
            session,
            owner,
            schemas.MemberCreate(name="韩梅梅", phone="13800138000", city="Shanghai"),
        )
        service.create_member(session, owner, schemas.MemberCreate(name="Li Lei", city="Beijing"))
        consent.set_consent(
            session,
            owner,
            member.id,
            [schemas.ConsentItem(channel=ConsentChannel.WECHAT, granted=True)],
            source=ConsentSource.CONSOLE,
        )
        points.grant_points(session, org.id, member.id, points=88, actor="tester", reason="welcome")
        member_id = member.id
    console_login(client, org.owner_email)

    page = client.get("/console/members", params={"q": "138 0013 8000"})
    assert page.status_code == 200
    assert f'/console/members/{member_id}"' in page.text
    assert "Li Lei" not in page.text
    everyone = client.get("/console/members").text
    assert "Li Lei" in everyone and "韩梅梅" in everyone

    detail = client.get(f"/console/members/{member_id}")
    assert detail.status_code == 200
    assert '<dd class="col-sm-7" id="points-available">88</dd>' in detail.text
    assert "WeChat" in detail.text and "welcome" in detail.text

    chinese = client.get(f"/console/members/{member_id}", headers={"Accept-Language": "zh-CN"})
    assert "积分流水" in chinese.text and "微信" in chinese.text
    assert client.get("/console/members/00000000-0000-0000-0000-000000000000").status_code == 404


def test_catalogues_have_the_same_keys() -> None:
    import json
    from importlib.resources import files

    folder = files("newretail") / "members" / "locales"
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    chinese = json.loads((folder / "zh-CN.json").read_text(encoding="utf-8"))
    assert english.keys() == chinese.keys()
