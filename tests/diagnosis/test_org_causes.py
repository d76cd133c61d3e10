"""Why the organisation's GMV moved (the Adtributor search over its stores) on the worked
example of docs/diagnosis.md: the counter that opened explains the traffic part, the shop the
conversion and order value parts; API and CLI."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.diagnosis import org_causes
from newretail.diagnosis.adtributor import Dimension
from newretail.diagnosis.decomposition import Factor
from tests.conftest import ON_SQLITE, TEST_SECRET, Org, store_args
from tests.diagnosis.test_gmv_change import BASE, NOW, PARAMS, _owner, load

runner = CliRunner()


def test_the_stores_that_explain_each_part(container: Container, org: Org) -> None:
    load(container, org)
    with session_scope(container.sessions, org.id) as session:
        found = org_causes.organisation_causes(
            session, _owner(org), container.warehouse, *NOW, *BASE
        )
    split = found.decomposition
    assert split.change == Decimal("3930.00")
    assert dict(split.parts) == {
        Factor.VISITORS: Decimal("3994.84"),
        Factor.CONVERSION: Decimal("-574.90"),
        Factor.ORDER_VALUE: Decimal("520.06"),
    }
    assert [(c.factor, c.dimension, c.label, c.amount) for c in found.causes] == [
        (Factor.VISITORS, Dimension.STORE, "Store 1", Decimal("3000.00")),
        (Factor.CONVERSION, Dimension.STORE, "Store 0", Decimal("-574.90")),
        (Factor.ORDER_VALUE, Dimension.STORE, "Store 0", Decimal("520.06")),
    ]
    counter = found.causes[0]
    # visitors' shares 100 % / 0 % → 75 % / 25 %: the counter's surprise is ½ · 0.25 · log₂ 2
    assert counter.surprise == pytest.approx(0.125)
    assert counter.explanatory_power is not None
    assert float(counter.explanatory_power) == pytest.approx(3000 / 3994.84)
    assert found.data_quality == []


@ON_SQLITE
def test_the_api_and_the_cli(
    client: TestClient,
    container: Container,
    settings: Settings,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    load(container, org)
    answer = client.get("/api/v1/diagnosis/causes", params=PARAMS, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [c["text"] for c in body["causes"]] == [
        "traffic at Store 1: +¥3,000.00",
        "conversion at Store 0: −¥574.90",
        "order value at Store 0: +¥520.06",
    ]
    chinese = client.get(
        "/api/v1/diagnosis/causes",
        params=PARAMS,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    assert chinese["causes"][0]["text"] == "Store 1的流量：+¥3,000.00"
    refused = client.get(
        "/api/v1/diagnosis/causes",
        params={**PARAMS, "base_last_day": "2026-10-01"},
        headers=org.auth(),
    )
    assert refused.status_code == 422 and refused.json()["field"] == "base_last_day"
    container.warehouse.close()  # the command opens the embedded warehouse itself
    command = [*store_args(settings), "diagnosis", "causes", "--org", org.slug]
    command += ["--from", "2026-11-08", "--to", "2026-11-14"]
    command += ["--against-from", "2026-11-01", "--against-to", "2026-11-07"]
    as_json = runner.invoke(app, [*command, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == body
    human = runner.invoke(app, command)
    printed = " ".join(human.stdout.split())
    assert "1. traffic at Store 1: +¥3,000.00" in printed
