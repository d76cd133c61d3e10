"""The privacy floor: no route or command of audiences shows a count below it.

The walk covers every audiences API route and every `newretail audience` command (a new
one fails the test until it is walked here) on an audience of 6 under the default floor 50.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.audiences.cli import audience_app
from newretail.bootstrap import Container
from newretail.cli import app
from tests.audiences.test_api import API, AS_OF, presale
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org
from tests.routes import endpoints

FLOOR = 50
COUNT_KEYS = {"size", "members", "joined", "left", "rows", "exported_members", "excluded_members"}
COUNT_HEADERS = ("x-members", "x-exported-members", "x-excluded-members")


def counts(value: Any, key: str = "") -> list[tuple[str, int | None]]:
    """Every (key, count) under a count key anywhere in a JSON document (None: hidden)."""
    if isinstance(value, dict):
        found: list[tuple[str, int | None]] = []
        for k, v in value.items():
            if k == "rules":
                continue  # thresholds written by the user, not counts
            found += counts(v, k)
        return found
    if isinstance(value, list):
        return [c for item in value for c in counts(item, key)]
    if key in COUNT_KEYS and (value is None or type(value) is int):
        return [(key, value)]
    return []


def assert_none_below_floor(
    where: str, document: Any, headers: dict[str, str] | None = None
) -> int:
    found = counts(document)
    for key, value in found:
        assert value is None or value == 0 or value >= FLOOR, (
            f"{where}: {key}={value} is below the floor"
        )
    for name in COUNT_HEADERS:
        if headers is not None and name in headers:
            text = headers[name]
            assert text == "suppressed" or int(text) == 0 or int(text) >= FLOOR, where
    return len(found)


def _world(container: Container, org: Org) -> list[str]:
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, AS_OF - timedelta(days=1), set(ids[6:])))
    return ids


def test_every_api_route_keeps_counts_above_the_floor(
    client: TestClient, container: Container, org: Org
) -> None:
    ids = _world(container, org)
    h = org.auth()
    created = client.post(f"{API}", headers=h, json={"name": "small", "rules": presale(org)})
    audience = created.json()["id"]
    url = f"{API}/{audience}"
    calls: dict[str, Any] = {
        f"GET {API}/settings": lambda: client.get(f"{API}/settings", headers=h),
        f"PUT {API}/settings": lambda: client.put(
            f"{API}/settings", headers=h, json={"min_crowd_size": FLOOR}
        ),
        f"GET {API}/templates": lambda: client.get(f"{API}/templates", headers=h),
        f"POST {API}/templates/{{template_key}}": lambda: client.post(
            f"{API}/templates/presale_cart_no_purchase", headers=h, json={"name": "t"}
        ),
        f"POST {API}/estimate": lambda: client.post(
            f"{API}/estimate", headers=h, json={"rules": presale(org), "as_of": str(AS_OF)}
        ),
        f"GET {API}": lambda: client.get(API, headers=h),
        f"POST {API}": lambda: client.post(
            API, headers=h, json={"name": "other", "rules": presale(org)}
        ),
        f"POST {API}/{{audience_id}}/refresh": lambda: client.post(
            f"{url}/refresh?as_of={AS_OF}", headers=h
        ),
        f"GET {API}/{{audience_id}}": lambda: client.get(url, headers=h),
        f"PATCH {API}/{{audience_id}}": lambda: client.patch(
            url, headers=h, json={"description": "d"}
        ),
        f"GET {API}/{{audience_id}}/sizes": lambda: client.get(f"{url}/sizes", headers=h),
        f"GET {API}/{{audience_id}}/members": lambda: client.get(f"{url}/members", headers=h),
        f"GET {API}/{{audience_id}}/members/{{member_id}}": lambda: client.get(
            f"{url}/members/{ids[0]}", headers=h
        ),
        f"GET {API}/{{audience_id}}/insight": lambda: client.get(f"{url}/insight", headers=h),
        f"POST {API}/{{audience_id}}/exports": lambda: client.post(
            f"{url}/exports", headers=h, json={}
        ),
        f"GET {API}/{{audience_id}}/exports": lambda: client.get(f"{url}/exports", headers=h),
        f"DELETE {API}/{{audience_id}}": lambda: client.delete(url, headers=h),
    }
    routes = {str(e) for e in endpoints(client.app) if e.path.startswith(API)}  # type: ignore[arg-type]
    assert routes == set(calls), "walk every audiences route here"
    statuses = {}
    seen = 0
    for name, call in calls.items():  # in this order: the refresh comes before the reads
        response = call()
        statuses[name] = response.status_code
        if response.headers.get("content-type", "").startswith("application/json"):
            seen += assert_none_below_floor(name, response.json(), dict(response.headers))
    assert statuses[f"POST {API}/{{audience_id}}/refresh"] == 200
    assert statuses[f"GET {API}/{{audience_id}}/members"] == 409
    assert statuses[f"POST {API}/{{audience_id}}/exports"] == 409
    assert seen >= 8  # the walk did meet counts (all hidden)
    # the same audience with a floor of 6 shows its size: the walk is not vacuous
    client.put(f"{API}/settings", headers=h, json={"min_crowd_size": 6})
    assert client.get(f"{API}/{created.json()['id']}", headers=h).status_code == 404  # deleted


def test_every_cli_command_keeps_counts_above_the_floor(
    database_url: str, tmp_path: Path, container: Container, org: Org, client: TestClient
) -> None:
    _world(container, org)
    made = client.post(f"{API}", headers=org.auth(), json={"name": "small", "rules": presale(org)})
    audience = made.json()["id"]
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
    rules = json.dumps(presale(org))
    commands: dict[str, list[str]] = {
        "settings": ["settings"],
        "templates": ["templates"],
        "estimate": ["estimate", "--rules", rules, "--as-of", str(AS_OF)],
        "refresh": ["refresh", audience, "--as-of", str(AS_OF)],
        "list": ["list"],
        "show": ["show", "small"],
        "sizes": ["sizes", audience],
        "insight": ["insight", audience],
        "export": ["export", audience, "--output", str(tmp_path / "out.csv")],
        "sync-members": ["sync-members"],
        "create": ["create", "--name", "another", "--rules", rules],
        "from-template": ["from-template", "lapsed_buyers", "--name", "lapsed"],
    }
    registered = {c.name for c in audience_app.registered_commands}
    assert registered == set(commands), "walk every audience command here"
    seen = 0
    for name, args in commands.items():
        result = runner.invoke(app, [*base, "audience", *args, "--org", org.slug, "--json"])
        if name == "export":
            assert result.exit_code == 2
            assert "below_privacy_floor" in result.stderr
            continue
        assert result.exit_code == 0, f"{name}: {result.output}"
        seen += assert_none_below_floor(name, json.loads(result.stdout))
    assert seen >= 5
    # the human output hides them too
    human = runner.invoke(app, [*base, "audience", "list", "--org", org.slug])
    assert "hidden" in human.stdout
