"""The Data Bank through HTTP, the console and the CLI, scoped to one organisation."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.databank import analytics
from newretail.databank.config import DEFAULT_CONFIG
from newretail.databank.snapshots import materialised_dates
from newretail.databank.tasks import snapshot_all
from newretail.tenancy.models import Role
from tests.conftest import ALONE, Org, api_key_for, console_login
from tests.databank.history import count_everyone, day, event, load

D1, D2 = day(30), day(37)


@pytest.fixture
def history(container: Container, org: Org, other_org: Org) -> dict[str, str]:
    """Members of the org's brand on D1 and D2; one purchase in another organisation."""
    count_everyone(container.sessions, org.id)
    brand = str(org.brand_id)
    o = str(org.id)
    rows = [
        # "aware": A on D1 (impression 10 days before), gone by D2
        event(o, "ad_impression", day(20), "aware", brand, channel="online", store=None),
        # "climber": A on D1, P on D2 (bought in Shanghai, shoes)
        event(o, "screen_exposure", day(30), "climber", None, channel="popup"),
        event(
            o,
            "purchase",
            day(36),
            "climber",
            brand,
            properties={"city": "Shanghai", "category": "shoes"},
        ),
        # "loyal": P on D1, L on D2 (second purchase day)
        event(o, "purchase", day(10), "loyal", brand, properties={"city": "Beijing"}),
        event(o, "purchase", day(37), "loyal", brand, properties={"city": "Beijing"}),
        event(o, "member_join", day(5), "loyal", brand, channel="counter"),
        event(o, "add_to_cart", day(35), "loyal", brand, channel="online"),
        # "newcomer": nothing on D1, I on D2
        event(o, "product_view", day(37), "newcomer", brand, channel="online"),
        event(str(other_org.id), "purchase", day(37), "stranger", str(other_org.brand_id)),
    ]
    con = container.warehouse.connection()
    with container.warehouse.lock:
        load(con, rows)
    return {"brand": brand}


def test_stages_flows_lists_fast_and_isolation(
    client: TestClient, org: Org, other_org: Org, history: dict[str, str]
) -> None:
    brand = history["brand"]
    made = client.post(
        "/api/v1/databank/snapshots",
        headers=org.auth(),
        json={"date": D1.isoformat(), "end": D2.isoformat()},
    )
    assert made.status_code == 201, made.text
    assert [(r["mode"], r["rows"]) for r in made.json()][:2] == [("full", 3), ("incremental", 3)]
    assert made.json()[-1] == {"date": D2.isoformat(), "mode": "incremental", "rows": 3}

    stages = client.get(f"/api/v1/databank/stages?date={D2}", headers=org.auth()).json()
    assert stages == {
        "date": D2.isoformat(),
        "min_crowd_size": 1,
        "brands": [{"brand_id": brand, "A": 0, "I": 1, "P": 1, "L": 1, "suppressed": False}],
    }
    flows = client.get(f"/api/v1/databank/flows?from={D1}&to={D2}", headers=org.auth()).json()
    [flow] = flows["brands"]
    cells = {c["stage"]: c for c in flow["stages"]}
    assert cells["A"] == {
        "stage": "A",
        "start": 2,
        "stayed": 0,
        "moved": {"I": 0, "P": 1, "L": 0},
        "churned": 1,
        "suppressed": False,
    }
    assert cells["P"] == {
        "stage": "P",
        "start": 1,
        "stayed": 0,
        "moved": {"A": 0, "I": 0, "L": 1},
        "churned": 0,
        "suppressed": False,
    }
    assert flow["new"] == {"A": 0, "I": 1, "P": 0, "L": 0}
    for cell in flow["stages"]:
        assert cell["start"] == cell["stayed"] + sum(cell["moved"].values()) + cell["churned"]

    saved = client.post(
        "/api/v1/databank/member-lists",
        headers=org.auth(),
        json={
            "name": "A churned",
            "brand_id": brand,
            "from_date": D1.isoformat(),
            "to_date": D2.isoformat(),
            "from_stage": "A",
            "to_stage": None,
        },
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["size"] == 1
    list_id = saved.json()["id"]
    read = client.get(f"/api/v1/databank/member-lists/{list_id}", headers=org.auth()).json()
    assert read["members"] == ["aware"]

    breakdown = client.get(
        f"/api/v1/databank/breakdowns?date={D2}&dimension=city", headers=org.auth()
    ).json()
    assert breakdown == [
        {"brand_id": brand, "stage": "I", "value": None, "members": 1, "suppressed": False},
        {"brand_id": brand, "stage": "P", "value": "Shanghai", "members": 1, "suppressed": False},
        {"brand_id": brand, "stage": "L", "value": "Beijing", "members": 1, "suppressed": False},
    ]
    channels = client.get(
        f"/api/v1/databank/breakdowns?date={D1}&dimension=channel", headers=org.auth()
    ).json()
    assert channels == [
        {"brand_id": brand, "stage": "A", "value": "online", "members": 1, "suppressed": False},
        {"brand_id": brand, "stage": "A", "value": "popup", "members": 1, "suppressed": False},
        {"brand_id": brand, "stage": "P", "value": "store", "members": 1, "suppressed": False},
    ]
    fast = client.get(f"/api/v1/databank/fast?end={D2}&weeks=1", headers=org.auth()).json()
    assert fast == [
        {
            "brand_id": brand,
            "week_end": D2.isoformat(),
            "fertility": 3,
            "advancing": 0.666667,  # climber A→P and loyal P→L ÷ F on D1 (3)
            "advanced_members": 2,
            "superiority": 1,
            "thriving": 1.0,
            "thriving_members": 1,
            "suppressed": False,
        }
    ]
    trends = client.get(f"/api/v1/databank/trends?from={D2}&to={D2}", headers=org.auth()).json()
    assert trends == [
        {"date": D2.isoformat(), "brand_id": brand, "A": 0, "I": 1, "P": 1, "L": 1}
        | {"suppressed": False}
    ]

    # Another organisation sees none of it; its one purchaser is under its crowd floor (50).
    other = other_org.auth()
    theirs = client.get(f"/api/v1/databank/stages?date={D2}", headers=other).json()
    assert theirs["min_crowd_size"] == 50
    assert theirs["brands"] == [
        {"brand_id": str(other_org.brand_id), "A": 0, "I": 0, "P": None, "L": 0, "suppressed": True}
    ]
    assert client.get(f"/api/v1/databank/member-lists/{list_id}", headers=other).status_code == 404
    assert (
        client.get(f"/api/v1/databank/stages?date={D2}&brand_id={brand}", headers=other).status_code
        == 404
    )
    assert client.get(f"/api/v1/databank/trends?from={D1}&to={D2}", headers=other).json() == []


def test_bad_input_and_permissions(client: TestClient, org: Org) -> None:
    headers = org.auth()
    bad = client.get(f"/api/v1/databank/breakdowns?date={D1}&dimension=shoe", headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "dimension"
    extra = client.post(
        "/api/v1/databank/snapshots", headers=headers, json={"date": D1.isoformat(), "x": 1}
    )
    assert extra.status_code == 422
    backwards = client.get(f"/api/v1/databank/flows?from={D2}&to={D1}", headers=headers)
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    cell = {"name": "x", "brand_id": str(org.brand_id), "from_date": str(D2), "to_date": str(D1)}
    bad_list = client.post("/api/v1/databank/member-lists", headers=headers, json=cell)
    assert bad_list.status_code == 422 and bad_list.json()["field"] == "to_date"
    cell["to_date"] = str(D2 + timedelta(days=1))
    no_stage = client.post("/api/v1/databank/member-lists", headers=headers, json=cell)
    assert no_stage.status_code == 422 and no_stage.json()["field"] == "from_stage"
    settings = client.put(
        "/api/v1/databank/settings",
        headers=headers,
        json={"loyalty_days": 1000, "purchase_days": 913},
    )
    assert settings.status_code == 422
    analyst = api_key_for(client, org, Role.ANALYST)
    auth = {"Authorization": f"Bearer {analyst}"}
    assert client.get(f"/api/v1/databank/stages?date={D1}", headers=auth).status_code == 200
    refused = client.post("/api/v1/databank/snapshots", headers=auth, json={"date": str(D1)})
    assert refused.status_code == 403
    changed = client.put("/api/v1/databank/settings", headers=headers, json={"awareness_days": 7})
    assert changed.status_code == 200 and changed.json()["awareness_days"] == 7
    assert client.get("/api/v1/databank/settings", headers=auth).json()["awareness_days"] == 7


def test_console_page_and_csv(client: TestClient, org: Org, history: dict[str, str]) -> None:
    client.post(
        "/api/v1/databank/snapshots",
        headers=org.auth(),
        json={"date": D1.isoformat(), "end": D2.isoformat()},
    )
    console_login(client, org.owner_email)
    page = client.get(f"/console/databank?day={D2}&start={D1}")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<svg") == 5
    assert 'class="databank-sankey"' in html and "<script" not in html
    assert 'id="breakdown-city"' in html and "Shanghai" in html
    csv = client.get(f"/console/databank/export.csv?kind=stages&day={D2}")
    assert csv.status_code == 200
    assert csv.text.splitlines() == ["date,brand_id,A,I,P,L", f"{D2},{history['brand']},0,1,1,1"]
    flows = client.get(f"/console/databank/export.csv?kind=flows&day={D2}&start={D1}")
    assert f"{history['brand']},{D1},{D2},A,P,1" in flows.text.splitlines()
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/console/preferences/locale", data={"locale": "zh-CN", "csrf_token": token})
    chinese = client.get(f"/console/databank?day={D2}&start={D1}")
    assert "人群流转" in chinese.text and "忠诚" in chinese.text


def test_cli_snapshot_stages_flows_fast(
    database_url: str, tmp_path: Path, container: Container, org: Org, history: dict[str, str]
) -> None:
    container.warehouse.close()  # the CLI opens the DuckDB file itself
    runner = CliRunner()
    base = [
        "--database-url",
        database_url,
        "--warehouse-url",
        container.warehouse.url,
        "--data-dir",
        str(tmp_path / "cli"),
    ]

    def run(*args: str) -> object:
        result = runner.invoke(app, [*base, "databank", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert run("snapshot", "--org", org.slug, "--date", str(D1), "--json") == {
        "date": str(D1),
        "mode": "full",
        "rows": 3,
    }
    runs = run("backfill", "--org", org.slug, "--from", str(day(31)), "--to", str(D2), "--json")
    assert isinstance(runs, list) and [r["mode"] for r in runs] == ["incremental"] * 7
    stages = run("stages", "--org", org.slug, "--date", str(D2), "--json")
    assert stages == {
        "date": str(D2),
        "min_crowd_size": 1,
        "brands": [
            {"brand_id": history["brand"], "A": 0, "I": 1, "P": 1, "L": 1, "suppressed": False}
        ],
    }
    flows = run("flows", "--org", org.slug, "--from", str(D1), "--to", str(D2), "--json")
    assert isinstance(flows, dict) and flows["brands"][0]["new"]["I"] == 1
    fast = run("fast", "--org", org.slug, "--end", str(D2), "--weeks", "1", "--json")
    assert isinstance(fast, list) and fast[0]["fertility"] == 3

    # the tables a person reads: counts under the crowd floor read "< 4", a week end without
    # a snapshot "—"
    floor = runner.invoke(
        app,
        [*base, "audience", "settings", "--org", org.slug, "--min-crowd-size", "4"],
        catch_exceptions=False,
    )
    assert floor.exit_code == 0, floor.output
    shown = runner.invoke(app, [*base, "databank", "stages", "--org", org.slug, "--date", str(D2)])
    assert re.findall(
        r"│ ([^│]+?) +│ ([^│]+?) +│ ([^│]+?) +│ ([^│]+?) +│ ([^│]+?) +│", shown.stdout
    )[-1] == ("Brand", "0", "< 4", "< 4", "< 4")
    weeks = runner.invoke(
        app, [*base, "databank", "fast", "--org", org.slug, "--end", str(D2), "--weeks", "6"]
    )
    rows = [line.split("│")[1:-1] for line in weeks.stdout.splitlines() if "│ Brand" in line]
    hidden = ["< 4", "—", "< 4", "—"]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["Brand", "2026-03-03", "—", "—", "0", "0.0"],  # before the first snapshot
        *(["Brand", f"2026-03-{d}", *hidden] for d in ("10", "17", "24", "31")),
        ["Brand", "2026-04-07", *hidden],
    ]


# A store of its own: the run's shared one holds every earlier test's organisations (about
# 0.2 s each to snapshot), so the job's time grew with the suite.
@pytest.mark.parametrize("database_url", ALONE, indirect=True)
def test_daily_job_snapshots_every_organisation(
    container: Container, org: Org, other_org: Org, history: dict[str, str]
) -> None:
    assert snapshot_all(container, D2) == 2  # every organisation of the store
    con = container.warehouse.connection()
    for organisation in (org, other_org):
        assert materialised_dates(con, str(organisation.id), D2, D2) == {D2}
    assert snapshot_all(container, D2) == 0  # nothing left to make
    stages = analytics.stage_counts(con, str(org.id), [history["brand"]], D2, DEFAULT_CONFIG)
    assert stages == {history["brand"]: {"A": 0, "I": 1, "P": 1, "L": 1}}
