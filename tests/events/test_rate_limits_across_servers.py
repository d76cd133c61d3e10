"""Acceptance (issue 16): one write key flooded across two real server processes sharing Redis
gets 429 with Retry-After from both, while another write key goes through on both."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench import harness

from newretail.bootstrap import bootstrap
from newretail.core.database import scope_session, session_scope
from newretail.core.settings import Settings
from newretail.tenancy import schemas, service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

BURST = 20


def _second_write_key(target: harness.Target) -> str:
    container = bootstrap(Settings(data_dir=target.data_dir, secret_key=harness.SECRET))
    try:
        with session_scope(container.sessions) as session:
            org_id = uuid.UUID(target.organization_id)
            scope_session(session, org_id)
            owner = Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="test")
            _, write_key = service.create_source(
                session,
                owner,
                schemas.SourceCreate(name="web", store_id=uuid.UUID(target.store_ids[1])),
            )
            return write_key
    finally:
        container.close()


def _batch(number: int) -> dict[str, object]:
    ts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return {
        "events": [
            {
                "message_id": f"flood-{number}-{uuid.uuid4().hex}",
                "type": "counter_approach",
                "ts": ts,
                "identifiers": {"anonymous_id": f"visitor-{number}"},
            }
        ]
    }


def test_one_write_key_flooded_across_two_servers_gets_429_the_other_key_does_not(
    tmp_path: Path, redis_url: str
) -> None:
    target = harness.prepare(tmp_path / "a")
    quiet_key = _second_write_key(target)
    limits = {
        "NEWRETAIL_REDIS_URL": redis_url,
        # a burst of 20, then one every 100 s: nothing comes back while the test runs
        "NEWRETAIL_WRITE_KEY_RATE_PER_SECOND": "0.01",
        "NEWRETAIL_WRITE_KEY_RATE_BURST": str(BURST),
    }
    target.env.update(limits)
    second_dir = tmp_path / "b"  # its own spool and warehouse, the same operational store
    second_dir.mkdir()
    second = harness.Target(
        {
            **target.env,
            "NEWRETAIL_DATA_DIR": str(second_dir),
            "NEWRETAIL_DATABASE_URL": f"sqlite:///{(target.data_dir / 'newretail.sqlite3')}",
        },
        target.organization_id,
        target.write_key,
        target.store_ids,
        second_dir,
    )
    ports = [harness.free_port(), harness.free_port()]
    servers = [harness.start_server(target, ports[0])]
    try:
        servers.append(harness.start_server(second, ports[1]))
        answers: list[tuple[int, httpx.Response]] = []
        with httpx.Client(timeout=30) as client:
            for number in range(2 * BURST):
                port = ports[number % 2]  # alternately to one server and the other
                response = client.post(
                    f"http://127.0.0.1:{port}/api/v1/events",
                    headers={"Authorization": f"Bearer {target.write_key}"},
                    json=_batch(number),
                )
                answers.append((port, response))
            quiet = [
                client.post(
                    f"http://127.0.0.1:{port}/api/v1/events",
                    headers={"Authorization": f"Bearer {quiet_key}"},
                    json=_batch(1000 + port),
                )
                for port in ports
            ]
    finally:
        for process in servers:
            harness.stop_server(process)
    statuses = [response.status_code for _, response in answers]
    # one shared allowance: 20 acknowledged between the two servers (10 each), then refusals
    assert statuses == [200] * BURST + [429] * BURST
    refused = [(port, response) for port, response in answers if response.status_code == 429]
    assert {port for port, _ in refused} == set(ports)  # both servers refuse
    for _, response in refused:
        wait = int(response.headers["retry-after"])
        assert 0 < wait <= 100
        body = response.json()
        assert (body["code"], body["field"], body["retry_after"]) == (
            "rate_limited",
            "authorization",
            wait,
        )
    assert [response.status_code for response in quiet] == [200, 200]
    assert [response.json()["accepted"] for response in quiet] == [1, 1]
