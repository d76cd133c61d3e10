"""Audiences through HTTP: estimate, save, refresh, sizes, members, insight, validation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.audiences.tasks import refresh_due
from newretail.bootstrap import Container
from newretail.core.database import utcnow
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org
from tests.databank.history import event

AS_OF = date(2026, 4, 30)
API = "/api/v1/audiences"


def presale(org: Org, days: int = 30) -> dict[str, Any]:
    return {
        "all": [
            {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": days}},
            {"type": "did_not", "events": ["purchase"], "window": {"days": days}},
        ]
    }


@pytest.fixture
def members(container: Container, org: Org, client: TestClient) -> list[str]:
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, AS_OF - timedelta(days=1), set(ids[6:])))
    floor = client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 2})
    assert floor.json() == {"min_crowd_size": 2}
    return ids


def test_estimate_save_refresh_members_and_history(
    client: TestClient, container: Container, org: Org, members: list[str]
) -> None:
    h = org.auth()
    estimate = client.post(
        f"{API}/estimate", headers=h, json={"rules": presale(org), "as_of": str(AS_OF)}
    )
    assert estimate.status_code == 200, estimate.text
    assert estimate.json() == {
        "size": 6,
        "suppressed": False,
        "min_crowd_size": 2,
        "as_of": str(AS_OF),
        "rules": {
            "all": [
                {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}},
                {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
            ]
        },
    }
    created = client.post(
        f"{API}", headers=h, json={"name": "pre-sale carts", "rules": presale(org)}
    )
    assert created.status_code == 201, created.text
    audience = created.json()
    assert (audience["size"], audience["size_suppressed"], audience["refreshed_at"]) == (
        None,
        False,
        None,
    )
    url = f"{API}/{audience['id']}"
    assert client.get(f"{url}/members/{members[0]}", headers=h).json()["member"] is False

    first = client.post(f"{url}/refresh?as_of={AS_OF}", headers=h)
    assert first.status_code == 200, first.text
    assert (first.json()["size"], first.json()["as_of"]) == (6, str(AS_OF))
    page = client.get(f"{url}/members", headers=h).json()
    assert [m["member_id"] for m in page["members"]] == sorted(members[:6])
    since = {m["member_id"]: m["since"] for m in page["members"]}
    assert client.get(f"{url}/members/{members[0]}", headers=h).json() == {
        "audience_id": audience["id"],
        "member_id": members[0],
        "member": True,
    }
    assert client.get(f"{url}/members/{members[7]}", headers=h).json()["member"] is False

    # members[0] buys: it leaves at the next refresh; the others keep their `since`
    load_events(container, [event(str(org.id), "purchase", AS_OF, members[0], str(org.brand_id))])
    second = client.post(f"{url}/refresh?as_of={AS_OF}", headers=h).json()
    assert second["size"] == 5
    assert client.get(f"{url}/members/{members[0]}", headers=h).json()["member"] is False
    page = client.get(f"{url}/members?limit=2&offset=1", headers=h).json()
    assert [m["member_id"] for m in page["members"]] == sorted(members[1:6])[1:3]
    assert all(m["since"] == since[m["member_id"]] for m in page["members"])
    history = client.get(f"{url}/sizes", headers=h).json()
    assert [(s["size"], s["joined"], s["left"], s["trigger"]) for s in history] == [
        (6, 6, 0, "manual"),
        (5, None, None, "manual"),  # one left: below the floor of 2, hidden with "joined"
    ]
    listed = client.get(f"{API}", headers=h).json()
    assert [(a["name"], a["size"]) for a in listed] == [("pre-sale carts", 5)]

    renamed = client.patch(url, headers=h, json={"name": "carts", "refresh_hours": 24})
    assert (renamed.json()["name"], renamed.json()["refresh_hours"]) == ("carts", 24)
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404


def test_insight_hides_small_cells_until_the_hidden_total_reaches_the_floor(
    client: TestClient, org: Org, members: list[str]
) -> None:
    h = org.auth()
    audience = client.post(f"{API}", headers=h, json={"name": "a", "rules": presale(org)}).json()
    client.post(f"{API}/{audience['id']}/refresh?as_of={AS_OF}", headers=h)
    report = client.get(f"{API}/{audience['id']}/insight", headers=h).json()
    assert (report["size"], report["suppressed"], report["brand_id"]) == (
        6,
        False,
        str(org.brand_id),
    )
    dims = report["dimensions"]
    # members 0…5: odd indexes live in Shanghai, even ones in Beijing
    assert dims["city"] == {
        "cells": [{"value": "Beijing", "members": 3}, {"value": "Shanghai", "members": 3}],
        "suppressed": {"cells": 0, "members": 0},
    }
    # men are indexes 0 and 3 (2 = the floor): shown
    assert dims["gender"] == {
        "cells": [{"value": "female", "members": 4}, {"value": "male", "members": 2}],
        "suppressed": {"cells": 0, "members": 0},
    }
    # born 1990 … 1995: 36, 35 (35_44) and 34 … 31 (25_34) in 2026
    assert dims["age_band"] == {
        "cells": [{"value": "25_34", "members": 4}, {"value": "35_44", "members": 2}],
        "suppressed": {"cells": 0, "members": 0},
    }
    assert dims["tier"] == {
        "cells": [{"value": None, "members": 4}, {"value": "Gold", "members": 2}],
        "suppressed": {"cells": 0, "members": 0},
    }
    assert dims["preferred_channel"]["cells"] == [{"value": "online", "members": 6}]
    assert dims["aipl_stage"]["cells"] == [{"value": "I", "members": 6}]


def test_bad_rules_answer_422_with_the_path(client: TestClient, org: Org) -> None:
    cart = {"type": "behaviour", "events": ["add_to_cart"]}
    bad = {"all": [cart, cart, {**cart, "window": {"days": 0}}]}
    response = client.post(f"{API}", headers=org.auth(), json={"name": "x", "rules": bad})
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_input",
        "message": "rules.all[2].window.days: must be at least 1",
        "field": "rules.all[2].window.days",
    }
    other = {"any": [{**cart, "brand_id": "not-ours"}]}
    response = client.post(f"{API}/estimate", headers=org.auth(), json={"rules": other})
    assert (response.status_code, response.json()["field"]) == (422, "rules.any[0].brand_id")
    missing = {"type": "audience", "audience_id": "nope"}
    response = client.post(f"{API}", headers=org.auth(), json={"name": "y", "rules": missing})
    assert response.json()["message"] == "rules.audience_id: no such audience"


def test_saved_audiences_combine_and_cannot_be_deleted_while_used(
    client: TestClient, org: Org, members: list[str]
) -> None:
    h = org.auth()
    base = client.post(f"{API}", headers=h, json={"name": "base", "rules": presale(org)}).json()
    client.post(f"{API}/{base['id']}/refresh?as_of={AS_OF}", headers=h)
    shanghai = {"type": "attribute", "field": "city", "values": ["Shanghai"]}
    combined = {"all": [{"type": "audience", "audience_id": base["id"]}, {"not": shanghai}]}
    derived = client.post(f"{API}", headers=h, json={"name": "derived", "rules": combined}).json()
    refreshed = client.post(f"{API}/{derived['id']}/refresh?as_of={AS_OF}", headers=h).json()
    assert refreshed["size"] == 3  # members 0, 2, 4 (Beijing)
    refused = client.delete(f"{API}/{base['id']}", headers=h)
    assert (refused.status_code, refused.json()["message"]) == (
        409,
        "used by the audience 'derived'",
    )
    cycle = client.patch(
        f"{API}/{base['id']}",
        headers=h,
        json={"rules": {"type": "audience", "audience_id": base["id"]}},
    )
    assert cycle.json()["message"] == "rules.audience_id: an audience cannot contain itself"


def test_templates_and_the_scheduled_refresh(
    client: TestClient, container: Container, org: Org, members: list[str]
) -> None:
    h = org.auth()
    keys = [t["key"] for t in client.get(f"{API}/templates", headers=h).json()]
    assert keys == [
        "presale_cart_no_purchase",
        "popup_visitors_never_bought",
        "lapsed_buyers",
        "interested_never_bought",
    ]
    made = client.post(
        f"{API}/templates/presale_cart_no_purchase",
        headers=h,
        json={
            "start": str(AS_OF - timedelta(days=5)),
            "end": str(AS_OF),
            "brand_id": str(org.brand_id),
            "refresh_hours": 24,
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["template"] == "presale_cart_no_purchase"
    assert made.json()["name"] == "Added to cart during the pre-sale and did not buy"
    wrong = client.post(f"{API}/templates/lapsed_buyers", headers=h, json={"days": 3})
    assert (wrong.status_code, wrong.json()["field"]) == (422, "days")
    assert refresh_due(container, utcnow() - timedelta(hours=1)) == 0
    assert refresh_due(container) == 1
    audience = client.get(f"{API}/{made.json()['id']}", headers=h).json()
    assert audience["size"] == 6
    history = client.get(f"{API}/{made.json()['id']}/sizes", headers=h).json()
    assert [(s["size"], s["trigger"]) for s in history] == [(6, "schedule")]
    assert refresh_due(container) == 0  # next one in 24 hours


def test_small_cells_are_hidden_with_the_next_smallest_until_the_floor() -> None:
    from newretail.audiences.insight import insight_cells as _cells

    rows = [
        {"value": "a", "members": 10},
        {"value": "b", "members": 1},
        {"value": "c", "members": 3},
    ]
    assert _cells(rows, 3) == {
        "cells": [{"value": "a", "members": 10}],
        "suppressed": {"cells": 2, "members": 4},
    }
    assert _cells(rows, 1) == {
        "cells": [
            {"value": "a", "members": 10},
            {"value": "c", "members": 3},
            {"value": "b", "members": 1},
        ],
        "suppressed": {"cells": 0, "members": 0},
    }
    assert _cells(rows, 2)["suppressed"] == {"cells": 2, "members": 4}
