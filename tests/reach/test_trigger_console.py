"""The console's trigger builder (SQLite and PostgreSQL): the campaign page links to its
trigger rules; a rule added through the form (event types ticked, a property filter, a store
ticked, caps) is listed and matched; a refused form says why by field, in Chinese too; the
latest decisions show the rule, store, member by name and the reason's label; delete. Event
types are shown by their labels (the timeline's), a custom type by its own name."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.members.profile_graph import Member
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from newretail.tenancy.schemas import StoreCreate
from tests.conftest import Org, console_login
from tests.console_pages import csrf, field_errors, rows, submit
from tests.reach.trigger_helpers import FIRST_DAY, owner_of, set_up, shanghai

ZH = {"Accept-Language": "zh-CN"}


def _events_cell(html: str, rule: str) -> str:
    """The Events cell of a rule's row in the rule list (its text before any property filter)."""
    found = re.search(
        rf'data-rule="{rule}">\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>([^<]*)', html, re.S
    )
    assert found, f"no row for {rule}"
    return found.group(1)


def test_build_a_rule_see_its_decisions_and_delete_it(
    client: TestClient, container: Container, org: Org
) -> None:
    reach = set_up(container, org)
    member = reach.members[0]
    with session_scope(container.sessions, org.id) as session:
        row = session.get(Member, member)
        assert row is not None
        row.name = "Li Na"
    console_login(client, org.owner_email)
    campaign_page = client.get(f"/console/marketing/campaigns/{reach.campaign.id}")
    page_url = f"/console/reach/campaigns/{reach.campaign.id}/triggers"
    assert f'id="trigger-rules-link" href="{page_url}"' in campaign_page.text
    page = client.get(page_url)
    assert rows(page.text, "data-rule") == ["Counter approach"]

    added = submit(
        client,
        page_url,
        page_url,
        {
            "name": "Lipstick shelf",
            "stage_position": "1",
            "offer_code": reach.offer.code,
            "type_shelf_browse": "on",
            "other_types": "mirror_try_on",
            "filter_property": "shelf",
            "filter_op": "in",
            "filter_values": "lipstick, gloss",
            f"store_{reach.store_id}": "on",
            "channel": "push",
            "daily_cap": "1",
            "weekly_cap": "",
            "reentry_minutes": "5",
        },
    )
    assert added.status_code == 303, added.text
    listed = client.get(added.headers["location"])
    assert rows(listed.text, "data-rule") == ["Counter approach", "Lipstick shelf"]
    assert "is one of lipstick, gloss" in listed.text
    assert "1 a day, — a week, re-entry after 5 min" in listed.text
    assert _events_cell(listed.text, "Counter approach") == "Counter approach"
    assert _events_cell(listed.text, "Lipstick shelf") == "mirror_try_on, Cloud shelf browse"
    assert "counter_approach" not in listed.text.replace('name="type_counter_approach"', "")
    listed_zh = client.get(page_url, headers=ZH).text
    assert _events_cell(listed_zh, "Counter approach") == "靠近专柜"
    assert _events_cell(listed_zh, "Lipstick shelf") == "mirror_try_on, 云货架浏览"
    assert 'name="type_store_visit"> 到店</label>' in listed_zh

    noon = shanghai(FIRST_DAY, "12:00")
    assert reach.trigger(
        member, noon, event_type="shelf_browse", properties={"shelf": "gloss"}
    ) == ["treated"]
    assert reach.trigger(member, noon, event_type="counter_approach") == ["treated"]
    shown = client.get(page_url)
    assert rows(shown.text, "data-decision") == ["treated", "treated"]
    # the live stream: the same rows, read again by the page without a reload
    live = client.get(f"{page_url}/decisions")
    assert live.status_code == 200
    assert rows(live.text, "data-decision") == ["treated", "treated"]
    assert "Li Na" in live.text and "<html" not in live.text
    assert "Li Na" in shown.text and "Reached with the offer" in shown.text
    chinese = client.get(page_url, headers=ZH)
    assert "触发规则" in chinese.text and "已触达并发放权益" in chinese.text

    refused = submit(
        client,
        page_url,
        page_url,
        {"name": "", "stage_position": "1", "offer_code": reach.offer.code, "channel": "sms"}
        | {"daily_cap": "two"},
        **{"Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422
    assert field_errors(refused.text)["daily_cap"] == "请输入整数"
    unnamed = submit(
        client,
        page_url,
        page_url,
        {"name": "", "stage_position": "1", "offer_code": reach.offer.code, "channel": "sms"},
    )
    assert unnamed.status_code == 422 and field_errors(unnamed.text)["name"]

    (delete,) = re.findall(rf'action="({page_url}/[^"]+/delete)"', listed.text)[1:]
    gone = client.post(delete, data={"csrf_token": csrf(listed.text)}, follow_redirects=False)
    assert gone.status_code == 303
    assert rows(client.get(page_url).text, "data-rule") == ["Counter approach"]


def test_the_form_offers_the_selling_stores_not_the_warehouse(
    client: TestClient, container: Container, org: Org
) -> None:
    reach = set_up(container, org)
    with session_scope(container.sessions, org.id) as session:
        warehouse = tenancy_service.create_store(
            session,
            owner_of(org.id),
            StoreCreate(code="WH-EAST", name="East warehouse", channel_type=ChannelType.WAREHOUSE),
        )
        warehouse_id = warehouse.id
    console_login(client, org.owner_email)
    page = client.get(f"/console/reach/campaigns/{reach.campaign.id}/triggers").text
    assert f'name="store_{reach.store_id}"' in page
    assert f'name="store_{warehouse_id}"' not in page
    assert "East warehouse" not in page
