"""The `newretail` command on both stores (root options select the store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core import migrate
from newretail.demo.organisation import DEMO_EMAIL, STORES

runner = CliRunner()


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_operator_commands_end_to_end(
    database_url: str, tmp_path: Path, client: TestClient, container: Container
) -> None:
    base = ["--data-dir", str(tmp_path), "--database-url", database_url]
    created = run(
        *base,
        "org",
        "create",
        "Acme Retail",
        "--owner-email",
        "boss@example.com",
        "--slug",
        f"acme-{tmp_path.name[-6:]}",
        "--json",
    )
    assert created["console_login"]["email"] == "boss@example.com"
    assert len(created["console_login"]["password"]) == 16
    org = created["slug"]
    brand = run(*base, "brand", "create", "--org", org, "tea", "Bamboo Tea", "--json")
    assert (brand["code"], brand["name"]) == ("tea", "Bamboo Tea")
    run(*base, "brand", "create", "--org", org, "silk", "Silk Road", "--json")
    listed = run(*base, "brand", "list", "--org", org, "--json")
    assert [(b["code"], b["name"]) for b in listed] == [
        ("tea", "Bamboo Tea"),
        ("silk", "Silk Road"),
    ]
    found = run(*base, "brand", "list", "--org", org, "--search", "SILK", "--json")
    assert [b["code"] for b in found] == ["silk"]
    store = run(
        *base,
        "store",
        "create",
        "--org",
        org,
        "--code",
        "HZ-1",
        "--name",
        "West Lake",
        "--channel-type",
        "counter",
        "--brand",
        "tea",
        "--city",
        "Hangzhou",
        "--latitude",
        "30.25",
        "--longitude",
        "120.16",
        "--json",
    )
    assert (store["channel_type"], store["brand_id"], store["latitude"]) == (
        "counter",
        brand["id"],
        30.25,
    )
    source = run(
        *base, "source", "create", "--org", org, "Counter till", "--store", "HZ-1", "--json"
    )
    assert source["write_key"].startswith("nr_wk_") and source["store_id"] == store["id"]
    user = run(
        *base,
        "user",
        "create",
        "--org",
        org,
        "mgr@example.com",
        "--role",
        "store_manager",
        "--store",
        "HZ-1",
        "--json",
    )
    assert (user["role"], user["store_ids"]) == ("store_manager", [store["id"]])
    key = run(*base, "api-key", "create", "--org", org, "bi", "--role", "analyst", "--json")
    listed = run(*base, "store", "list", "--org", org, "--channel-type", "counter", "--json")
    assert [s["code"] for s in listed] == ["HZ-1"]
    # the keys printed by the CLI work against the API on the same store
    api = client.get("/api/v1/stores", headers={"Authorization": f"Bearer {key['key']}"})
    assert [s["code"] for s in api.json()["items"]] == ["HZ-1"]
    owner = client.get(
        "/api/v1/organization", headers={"Authorization": f"Bearer {created['api_key']}"}
    )
    assert owner.json()["id"] == created["organization_id"]


def test_store_options_also_follow_the_command(tmp_path: Path) -> None:
    created = run("org", "create", "Late Options", "--data-dir", str(tmp_path), "--json")
    listed = run("--data-dir", str(tmp_path), "org", "list", "--json")
    assert [o["id"] for o in listed] == [created["organization_id"]]


def test_existing_login_joins_another_organisation_with_its_stores(tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path)]
    run(*base, "org", "create", "One", "--owner-email", "pat@example.com", "--json")
    run(*base, "org", "create", "Two", "--owner-email", "sam@example.com", "--json")
    run(
        *base,
        "store",
        "create",
        "--org",
        "two",
        "--code",
        "P1",
        "--name",
        "Pop",
        "--channel-type",
        "popup",
        "--json",
    )
    joined = run(
        *base,
        "user",
        "create",
        "--org",
        "two",
        "pat@example.com",
        "--role",
        "store_manager",
        "--store",
        "P1",
        "--json",
    )
    assert (joined["email"], joined["role"], joined["password"]) == (
        "pat@example.com",
        "store_manager",
        None,
    )
    assert len(joined["store_ids"]) == 1
    weak = runner.invoke(app, [*base, "org", "create", "Three", "--owner-password", "abc"])
    assert weak.exit_code == 2 and "owner_password" in weak.output


def test_errors_name_the_code_and_field(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--data-dir", str(tmp_path), "brand", "create", "--org", "nope", "a", "b"]
    )
    assert result.exit_code == 2
    assert "error [not_found] org: no organisation 'nope'" in result.output


def test_db_upgrade_and_demo_on_a_fresh_embedded_dir(tmp_path: Path) -> None:
    upgraded = run("--data-dir", str(tmp_path), "db", "upgrade", "--json")
    assert upgraded == {"from": None, "to": migrate.head_revision()}
    first = run("--data-dir", str(tmp_path), "demo", "--no-serve", "--json")
    second = run("--data-dir", str(tmp_path), "demo", "--no-serve", "--json")
    assert (first["seeded"], second["seeded"], first["email"]) == (True, False, DEMO_EMAIL)
    assert first["organization_id"] == second["organization_id"]
    stores = run("--data-dir", str(tmp_path), "store", "list", "--org", "demo", "--json")
    assert len(stores) == len(STORES) == 20
    channels = sorted(s["channel_type"] for s in stores)
    assert {c: channels.count(c) for c in set(channels)} == {
        "online": 1,
        "warehouse": 1,
        "store": 4,
        "counter": 4,
        "popup": 2,
        "cloud_shelf": 3,
        "vending": 5,
    }
    orgs = run("--data-dir", str(tmp_path), "org", "list", "--json")
    assert [o["slug"] for o in orgs] == ["demo"]


def test_a_missing_default_data_folder_is_refused_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWRETAIL_DATA_DIR", raising=False)
    monkeypatch.delenv("NEWRETAIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("NEWRETAIL_WAREHOUSE_URL", raising=False)
    result = runner.invoke(app, ["org", "list", "--json"])
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        f"error [configuration_error] data_dir: there is no NewRetail data folder at "
        f"{tmp_path.resolve() / '.newretail'} (the default, .newretail in the folder the command "
        "runs from); run the command where the data folder is, choose it with --data-dir DIR "
        "or NEWRETAIL_DATA_DIR=DIR, or create one with `newretail demo`"
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_chosen_data_folder_is_created_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWRETAIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("NEWRETAIL_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("NEWRETAIL_DATA_DIR", str(tmp_path / "by-env"))
    by_env = runner.invoke(app, ["org", "list", "--json"])
    assert (by_env.exit_code, json.loads(by_env.stdout)) == (0, [])
    assert by_env.stderr == f"creating the data folder {tmp_path / 'by-env'}\n"
    by_flag = runner.invoke(app, ["--data-dir", "by-flag", "org", "list", "--json"])
    assert (by_flag.exit_code, json.loads(by_flag.stdout)) == (0, [])
    assert by_flag.stderr == f"creating the data folder {tmp_path / 'by-flag'}\n"
    again = runner.invoke(app, ["--data-dir", "by-flag", "org", "list", "--json"])
    assert (again.exit_code, again.stderr) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["by-env", "by-flag"]
