"""The crowd floor on the Data Bank: stage counts, breakdown cells (by store among them),
flows, trends and FAST hide every count of 1 … floor−1 members, through the API (null and
`suppressed`), the CSV and the console ("< N" in both languages), as audiences do."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.tenancy.crowd_floor import shown, shown_together
from tests.conftest import ON_SQLITE, Org, console_login
from tests.databank.history import day, event, load

D = day(3)


def _history(container: Container, org: Org) -> None:
    """On D: four viewers at the first store, two at the second, one buyer at the first."""
    brand, o = str(org.brand_id), str(org.id)
    first, second = str(org.store_ids[0]), str(org.store_ids[1])
    rows = [event(o, "product_view", D, f"near-{n}", brand, store=first) for n in range(4)]
    rows += [event(o, "product_view", D, f"far-{n}", brand, store=second) for n in range(2)]
    rows.append(event(o, "purchase", D, "buyer", brand, store=first))
    with container.warehouse.lock:
        load(container.warehouse.connection(), rows)


def _floor(client: TestClient, org: Org, size: int) -> None:
    answer = client.put(
        "/api/v1/audiences/settings", headers=org.auth(), json={"min_crowd_size": size}
    )
    assert answer.json() == {"min_crowd_size": size}


@ON_SQLITE
def test_the_api_answers_null_and_suppressed_under_the_floor(
    client: TestClient, container: Container, org: Org
) -> None:
    _history(container, org)
    _floor(client, org, 3)
    brand, first, second = str(org.brand_id), str(org.store_ids[0]), str(org.store_ids[1])
    stages = client.get(f"/api/v1/databank/stages?date={D}", headers=org.auth()).json()
    assert stages == {
        "date": D.isoformat(),
        "min_crowd_size": 3,
        "brands": [{"brand_id": brand, "A": 0, "I": 6, "P": None, "L": 0, "suppressed": True}],
    }
    by_store = client.get(
        f"/api/v1/databank/breakdowns?date={D}&dimension=store_id", headers=org.auth()
    ).json()
    assert by_store == [
        {"brand_id": brand, "stage": "I", "value": first, "members": 4, "suppressed": False},
        {"brand_id": brand, "stage": "I", "value": second, "members": None, "suppressed": True},
        {"brand_id": brand, "stage": "P", "value": first, "members": None, "suppressed": True},
    ]
    flows = client.get(f"/api/v1/databank/flows?from={day(2)}&to={D}", headers=org.auth()).json()
    assert flows["brands"][0]["new"] == {"A": 0, "I": 6, "P": None, "L": 0}

    _floor(client, org, 1)  # a floor of 1 hides nothing
    stages = client.get(f"/api/v1/databank/stages?date={D}", headers=org.auth()).json()
    assert stages["brands"][0] | {"brand_id": ""} == {
        "brand_id": "",
        "A": 0,
        "I": 6,
        "P": 1,
        "L": 0,
        "suppressed": False,
    }


@ON_SQLITE
def test_the_console_and_csv_show_less_than_n(
    client: TestClient, container: Container, org: Org
) -> None:
    _history(container, org)
    _floor(client, org, 3)
    console_login(client, org.owner_email)
    html = client.get(f"/console/databank?day={D}").text
    body = html.split('id="breakdown-store_id"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr[^>]*><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body)
    below = (
        '<span class="below-floor" title="Fewer than 3 members: hidden by the minimum crowd '
        'size">&lt; 3</span>'
    )
    assert cells == [
        ("Interested", "Store 0", "4"),
        ("Interested", "Store 1", below),
        ("Purchased", "Store 0", below),
    ]
    assert "shown as “&lt; 3”" in html  # the note under the funnel
    funnel = html.split('class="databank-funnel"', 1)[1].split("</svg>", 1)[0]
    assert ">&lt; 3</text>" in funnel and ">6</text>" in funnel
    csv = client.get(f"/console/databank/export.csv?kind=breakdown&dimension=store_id&day={D}")
    assert csv.text.splitlines()[1:] == [
        f"{org.brand_id},I,{org.store_ids[0]},4,false",
        f"{org.brand_id},I,{org.store_ids[1]},,true",
        f"{org.brand_id},P,{org.store_ids[0]},,true",
    ]
    chinese = client.get(f"/console/databank?day={D}", headers={"Accept-Language": "zh-CN"})
    assert 'title="少于 3 人：低于最小人群规模，不予显示">&lt; 3</span>' in chinese.text
    assert "少于 3 人的计数显示为“&lt; 3”" in chinese.text


def test_one_rule() -> None:
    assert [shown(n, 3) for n in (0, 1, 2, 3, None)] == [0, None, None, 3, None]
    assert shown_together([5, 2, 0], 3) == [None, None, None]
    assert shown_together([5, 3, 0], 3) == [5, 3, 0]
