"""The events console page: failed events with replay and discard, in English and Chinese."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.conftest import Org, console_login


def test_failed_events_are_listed_replayed_and_discarded(client: TestClient, org: Org) -> None:
    now = datetime.now(UTC).isoformat()
    sent = client.post(
        "/api/v1/events",
        headers={"Authorization": f"Bearer {org.write_key}"},
        json={
            "events": [
                {"message_id": "w1", "type": "review", "ts": now, "properties": {"rating": 9}},
                {"message_id": "w2", "type": "wine_tasting", "ts": now},
            ]
        },
    )
    assert sent.status_code == 400
    console_login(client, org.owner_email)
    page = client.get("/console/events")
    assert page.status_code == 200
    assert "2 failed events" in page.text
    assert "events[0].properties.rating" in page.text and "must be at most 5" in page.text
    ids = re.findall(r'data-failed="([0-9a-f-]+)"', page.text)
    assert len(ids) == 2
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    refused = client.post(f"/console/events/failed/{ids[1]}/discard", data={"csrf_token": "x"})
    assert refused.status_code == 403
    discarded = client.post(
        f"/console/events/failed/{ids[1]}/discard",
        data={"csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert discarded.status_code == 303
    replayed = client.post(
        f"/console/events/failed/{ids[0]}/replay", data={"csrf_token": token.group(1)}
    )
    assert "The event still fails; its reason is updated." in replayed.text
    assert "1 failed event" in replayed.text
    assert 'data-failed="' + ids[1] in client.get("/console/events?status=discarded").text
    chinese = client.get("/console/events", headers={"Accept-Language": "zh-CN"})
    assert "失败事件" in chinese.text and "事件类型" in chinese.text
