from fastapi.testclient import TestClient

from tests.conftest import Org


def test_owner_key_lists_own_stores(client: TestClient, org: Org) -> None:
    response = client.get("/api/v1/stores", headers=org.auth())
    assert response.status_code == 200
    assert [s["code"] for s in response.json()["items"]] == ["S0", "S1"]
