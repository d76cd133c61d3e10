"""Rate limits: GCRA in memory and in Redis (atomic across connections), and the API's 429."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import bootstrap
from newretail.core import migrate
from newretail.core.ratelimit import Decision, MemoryRates, Rate, RateLimits, limit_key
from newretail.core.settings import Settings
from newretail.main import create_app
from tests.conftest import TEST_SECRET, Org, make_org


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gcra_admits_the_burst_then_one_per_interval() -> None:
    clock = Clock()
    rates = MemoryRates(clock=clock)
    rate = Rate(per_second=1, burst=3)
    assert [rates.check("k", rate).admitted for _ in range(4)] == [True, True, True, False]
    assert rates.check("k", rate) == Decision(False, 1.0)
    clock.now += 0.5
    assert rates.check("k", rate) == Decision(False, 0.5)
    assert rates.check("k", rate, take=False) == Decision(False, 0.5)  # looking takes nothing
    clock.now += 0.5
    assert rates.check("k", rate, take=False) == Decision(True)
    assert rates.check("k", rate) == Decision(True)
    assert rates.check("k", rate) == Decision(False, 1.0)
    assert rates.check("other", rate) == Decision(True)  # keys are apart
    clock.now += 10  # idle: the whole burst is back, no more
    assert [rates.check("k", rate).admitted for _ in range(4)] == [True, True, True, False]


def test_a_rate_of_zero_is_no_limit() -> None:
    rates = MemoryRates(clock=Clock())
    assert all(rates.check("k", Rate(0, 1)).admitted for _ in range(100))


def test_idle_keys_are_forgotten_when_memory_fills() -> None:
    clock = Clock()
    rates = MemoryRates(clock=clock, max_keys=3)
    for key in "abc":
        rates.check(key, Rate(1, 5))
    clock.now += 2
    rates.check("d", Rate(1, 5))
    assert sorted(rates._arrivals) == ["d"]


def test_redis_limits_are_one_limit_for_every_connection(redis_url: str) -> None:
    """Forty checks from eight threads, each thread its own limiter (as separate servers are):
    exactly the burst is admitted, because the Lua script reads and moves the TAT at once."""
    key = limit_key("test", secrets.token_hex(16))
    rate = Rate(per_second=0.01, burst=10)  # one more every 100 s: none within the test
    limiters = [RateLimits(redis_url) for _ in range(8)]

    def five(limits: RateLimits) -> list[bool]:
        return [limits.check(key, rate).admitted for _ in range(5)]

    with ThreadPoolExecutor(8) as pool:
        outcomes = [admitted for run in pool.map(five, limiters) for admitted in run]
    assert outcomes.count(True) == 10 and outcomes.count(False) == 30
    # the next slot is one interval after the burst (less the moments the test took)
    refused = limiters[0].check(key, rate)
    assert not refused.admitted and 90 < refused.retry_after <= 100
    assert not limiters[0].check(key, rate, take=False).admitted
    for limits in limiters:
        limits._sync.close()  # type: ignore[union-attr]


def test_an_unreachable_redis_falls_back_to_this_process() -> None:
    limits = RateLimits("redis://127.0.0.1:1/0", timeout_seconds=0.2)
    rate = Rate(per_second=0.01, burst=2)
    assert [limits.check("k", rate).admitted for _ in range(3)] == [True, True, False]


# ---------------------------------------------------------------- the API's answer
@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Org]]:
    """An app whose write keys and API keys have a burst of 3, then one per 100 s."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'ops.sqlite3'}",
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
        redis_url=redis_url,
        write_key_rate_per_second=0.01,
        write_key_rate_burst=3,
        api_key_rate_per_second=0.01,
        api_key_rate_burst=3,
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    org = make_org(container)
    with TestClient(create_app(container=container)) as client:
        yield client, org
    container.close()


def test_a_write_key_over_its_rate_gets_429_with_retry_after(
    limited: tuple[TestClient, Org],
) -> None:
    client, org = limited
    headers = {"Authorization": f"Bearer {org.write_key}"}
    statuses = [
        client.post("/api/v1/events", headers=headers, json={"events": []}).status_code
        for _ in range(4)
    ]
    assert statuses[3] == 429 and 429 not in statuses[:3]
    refused = client.post("/api/v1/events", headers=headers, json={"events": []})
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])  # 100 s less the moments the test took
    assert 90 < wait <= 100
    assert refused.json() == {
        "code": "rate_limited",
        "message": "too many requests for this write key (over 0.01 per second, 3 at once); "
        f"retry after {wait} s",
        "field": "authorization",
        "retry_after": wait,
    }
    # Segment's Basic auth names the same write key: the same limit
    segment = client.post("/v1/track", auth=(org.write_key, ""), json={})
    assert segment.status_code == 429
    # the API key of the same organisation has its own rate
    assert client.get("/api/v1/stores", headers=org.auth()).status_code == 200
    # the metrics count the refusals under one route label
    metrics = client.get("/metrics").text
    assert 'route="(rate limited)",status="429"} 3.0' in metrics


def test_an_api_key_over_its_rate_is_refused_in_the_callers_language(
    limited: tuple[TestClient, Org],
) -> None:
    client, org = limited
    for _ in range(3):
        assert client.get("/api/v1/stores", headers=org.auth()).status_code == 200
    refused = client.get("/api/v1/stores", headers={**org.auth(), "Accept-Language": "zh-CN"})
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert 90 < wait <= 100
    assert refused.json()["message"] == (
        "请求过于频繁，请稍后再试（too many requests for this API key "
        f"(over 0.01 per second, 3 at once); retry after {wait} s）"
    )
    # no credential: no bucket, the API's own 401
    assert client.get("/api/v1/stores").status_code == 401
    # a wrong key is limited as the key it claims to be, apart from the real one
    assert client.get("/api/v1/stores", headers=org.auth("nr_key_wrong")).status_code == 401


def test_the_openapi_document_names_the_429_of_every_keyed_operation(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    keyed = [
        (method, path, operation["responses"])
        for path, operations in paths.items()
        if path.startswith(("/api/", "/v1/"))
        for method, operation in operations.items()
    ]
    assert len(keyed) > 100
    assert [(m, p) for m, p, responses in keyed if "429" not in responses] == []
    answer = paths["/api/v1/stores"]["get"]["responses"]["429"]
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
