"""Schemathesis over the OpenAPI document, in process (ASGI), for every operation.

Each operation gets a bounded number of generated requests (FUZZ_EXAMPLES, default 5, so
`make test` stays within its budget; the issue's demo run used 15) against an organisation
seeded like the demo (brands, stores of every channel, members, catalogue, stock, orders).
Path identifiers of that organisation's brand, stores, SKUs, products and members are
filled in for most operations, so the fuzz reaches past "404 not found". The weekly report's
mails go to a local SMTP sink (aiosmtpd), so that operation is fuzzed too.

Asserted for every response: no 5xx, the body matches the documented schema, every 4xx is
the project's problem body (`code` and `field`), and no answer takes over 10 s (asked twice:
a busy machine is not a slow endpoint). Failures it found are kept as plain requests in
tests/test_api_fuzz_found.py. Half the examples are requests the schema allows, half requests
it refuses; Hypothesis is derandomized, so a run is repeatable.

Then the stateful part: the document links each create to the read, update and delete of
what it made (`newretail.core.openapi`); for each kind of object the API creates, Schemathesis's
state machine follows those links only (no inferred ones) for a bounded number of scenarios
(FUZZ_SCENARIOS, default 5, of at most 6 steps), with the same checks. Codes, names and
e-mails sent are made unique, so no scenario's answer depends on an earlier one's objects.
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from newretail.bootstrap import bootstrap
from newretail.catalog.models import Product, Sku
from newretail.core import migrate
from newretail.core.database import scope_session, session_scope
from newretail.core.settings import Settings
from newretail.demo import organisation as demo
from newretail.demo.members import seed_members
from newretail.demo.orders import seed_commerce
from newretail.main import create_app
from newretail.members.models import Member
from newretail.tenancy import schemas, service
from newretail.tenancy.models import Brand, Role, Store
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import TEST_SECRET
from tests.diagnosis.test_weekly_report import Inbox

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "5"))
SCENARIO_STEPS = 6
SLOWEST_SECONDS = 10.0
# the collector's routes take a source's write key, every other route an API key
COLLECTOR_NATIVE_PATH = "/api/v1/events"
# server-sent events: read for a moment, then cut
STREAMS = {"/api/v1/reach/stores/{store_id}/feed"}
STREAM_SECONDS = 1.0
REFERENCED_DELETES = {"/api/v1/brands/{brand_id}", "/api/v1/stores/{store_id}"}


@dataclass
class FuzzTarget:
    """The app under test and the seeded organisation's credentials and identifiers."""

    owner_key: str
    write_key: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, FuzzTarget]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with socket.socket() as probe:  # a free port for the SMTP sink the weekly report mails to
        probe.bind(("127.0.0.1", 0))
        smtp_port = int(probe.getsockname()[1])
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    settings_ = Settings(
        data_dir=folder / "data",
        database_url=f"sqlite:///{folder / 'fuzz.sqlite3'}",
        warehouse_url=f"duckdb://{folder / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
        # one owner key sends every request: the fuzz checks schemas, not rates
        # (tests/core/test_rate_limits.py does)
        api_key_rate_per_second=0,
        write_key_rate_per_second=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_starttls=False,
    )
    container = bootstrap(settings_)
    migrate.upgrade(container.engine)
    target = _seed(container)
    app = create_app(container=container)
    yield app, target
    asgi.shutdown_lifespans()  # the app's lifespan closes the container
    smtp.stop()


def _seed(container: Any) -> FuzzTarget:
    """An organisation like the demo's, small: 300 members, 5 days of orders."""
    suffix = secrets.token_hex(4)
    with session_scope(container.sessions) as session:
        created = service.create_organization(
            scope_session(session, None),
            f"fuzz {suffix}",
            owner_email=f"fuzz-{suffix}@example.com",
            owner_password="correct horse battery",
            slug=f"fuzz-{suffix}",
        )
        org = created.organization
        demo._seed_tenancy(session, org)
        seed_members(session, org.id, 300, random.Random(3))
        seed_commerce(session, org.id, random.Random(3), days=5)
        owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="fuzz")
        _, write_key = service.create_source(session, owner, schemas.SourceCreate(name="fuzz"))
        store = session.scalars(select(Store).where(Store.code == "SH-XTD-SHOP")).one()
        ids = {
            "brand_id": session.scalars(select(Brand.id).order_by(Brand.code)).first(),
            "store_id": store.id,
            "location_id": store.id,
            "store": store.code,
            "store_code": store.code,
            "product_id": session.scalars(select(Product.id).order_by(Product.code)).first(),
            "sku_id": session.scalars(select(Sku.id).order_by(Sku.code)).first(),
            "member_id": session.scalars(select(Member.id).order_by(Member.phone)).first(),
        }
        return FuzzTarget(
            owner_key=created.api_key_token,
            write_key=write_key,
            ids={name: str(value) for name, value in ids.items()},
        )


@pytest.fixture(scope="module")
def api_schema(fuzz_target: tuple[Any, FuzzTarget]) -> Any:
    app, _ = fuzz_target
    config = SchemathesisConfig.from_dict({"generation": {"max-examples": EXAMPLES}})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def problem_details(ctx: CheckContext, response: Any, case: Case) -> bool | None:
    """Every 4xx is the API's problem body: a `code` and a `field` (null when no field is at
    fault), plus a message."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and isinstance(body.get("message"), str)
        and "field" in body
    ):
        raise Failure(
            operation=case.operation.label,
            title="4xx without the problem body",
            message=f"{response.status_code}: {response.text[:300]}",
        )
    return None


def _slow(response: Any) -> bool:
    """Over 10 s, unless it is an event stream (a store's screen feed stays open)."""
    streaming = response.headers.get("content-type", [""])[0].startswith("text/event-stream")
    return bool(response.elapsed > SLOWEST_SECONDS and not streaming)


def answered_in_time(ctx: CheckContext, response: Any, case: Case) -> bool | None:
    """No request keeps the server busy for more than 10 s (twice in a row: see `_fuzz`)."""
    if _slow(response):
        raise Failure(
            operation=case.operation.label,
            title="Slow answer",
            message=f"{response.elapsed:.1f} s (limit {SLOWEST_SECONDS} s)",
        )
    return None


CHECKS = [not_a_server_error, response_schema_conformance, problem_details, answered_in_time]


def _known_ids(operation: APIOperation, ids: dict[str, str]) -> dict[str, str]:
    """The seeded organisation's rows for the operation's path identifiers (deletes only at
    rows that other rows reference, so the organisation stays whole for what follows)."""
    if operation.method.upper() == "DELETE" and operation.path not in REFERENCED_DELETES:
        return {}
    names = {parameter.name for parameter in operation.path_parameters}
    return {name: ids[name] for name in names if name in ids}


def _cases(operation: APIOperation, ids: dict[str, str]) -> st.SearchStrategy[Case]:
    """Requests the schema allows and requests it refuses, mixed."""
    known = _known_ids(operation, ids)
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known),
    ]
    return st.one_of(strategies)


def _request(case: Case) -> str:
    """The request, to copy into a regression test."""
    body = "" if isinstance(case.body, NotSet) else f" body={case.body!r:.300}"
    return f"{case.method} {case.formatted_path} query={case.query or {}}{body}"


def _fuzz(operation: APIOperation, target: FuzzTarget) -> list[str]:
    """Run the operation's examples; the failures found, one line each."""
    failures: list[str] = []
    collector = operation.path == COLLECTOR_NATIVE_PATH or operation.path.startswith("/v1/")
    key = target.write_key if collector else target.owner_key

    @given(case=_cases(operation, target.ids))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        timeout = STREAM_SECONDS if operation.path in STREAMS else 60
        try:
            response = case.call(headers=headers, timeout=timeout)
            if _slow(response):
                # once more: a machine busy with other work is not a slow endpoint
                response = case.call(headers=headers, timeout=timeout)
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as failure:
            failures.append(f"{_request(case)}: {failure}")
        except Exception as error:  # the app raised: a 500 behind a real server
            first_line = str(error).splitlines()[0] if str(error) else ""
            failures.append(f"{_request(case)}: 500 {type(error).__name__}: {first_line}")

    run()
    return failures


def test_every_operation_answers_within_its_schema(
    api_schema: Any, fuzz_target: tuple[Any, FuzzTarget]
) -> None:
    _, target = fuzz_target
    found: list[str] = []
    fuzzed = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        fuzzed += 1
        found.extend(_fuzz(operation, target))
    assert fuzzed >= 199
    assert not found, "\n".join(found)


UNIQUE_FIELDS = ("code", "name", "email")


def _make_unique(case: Case, number: int) -> None:
    """Each created object's code, name and e-mail made unique, so no scenario's answer depends
    on what an earlier scenario created (409 conflicts would make Hypothesis's replay of a
    scenario flaky): `X` becomes `X-1000`, `a@b.c` becomes `u1000.a@b.c`."""
    if case.method.upper() not in ("POST", "PATCH", "PUT") or not isinstance(case.body, dict):
        return
    for name in UNIQUE_FIELDS:
        value = case.body.get(name)
        if isinstance(value, str) and value:
            case.body[name] = f"u{number}.{value}" if name == "email" else f"{value}-{number}"


def _lifecycles(document: dict[str, Any]) -> list[list[str]]:
    """The paths each create's links join: the collection, and the item paths it leads to."""
    operation_paths = {
        operation["operationId"]: path
        for path, operations in document["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    found: list[list[str]] = []
    for path, operations in document["paths"].items():
        created = operations.get("post", {}).get("responses", {}).get("201", {})
        targets = {
            operation_paths[link["operationId"]] for link in created.get("links", {}).values()
        }
        if targets:
            found.append([path, *sorted(targets)])
    return found


def test_created_objects_are_read_updated_and_deleted_through_the_links(
    fuzz_target: tuple[Any, FuzzTarget],
) -> None:
    """Create → read → update → delete by the document's links, for each kind of object the
    API creates, checked at every step."""
    app, target = fuzz_target
    config = SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": SCENARIOS},
            # the document's own links only: inferring more costs the suite's budget
            "phases": {"stateful": {"inference": {"algorithms": []}, "max-steps": SCENARIO_STEPS}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    headers = {"Authorization": f"Bearer {target.owner_key}"}
    found: list[str] = []
    steps: list[str] = []
    serial = itertools.count(1000)
    lifecycles = _lifecycles(app.openapi())
    assert len(lifecycles) >= 15

    for paths in lifecycles:

        class Lifecycle(schema.include(path=paths).as_state_machine()):  # type: ignore[misc]
            def before_call(self, case: Case) -> None:
                # the owner's key, not a generated Authorization header
                case.headers = {**(case.headers or {}), **headers}
                _make_unique(case, next(serial))

            def get_call_kwargs(self, case: Case) -> dict[str, Any]:
                return {"timeout": 60}

            def validate_response(
                self, response: Any, case: Case, additional_checks: Any = None, **kwargs: Any
            ) -> None:
                steps.append(f"{case.method} {case.operation.path} {response.status_code}")
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (AssertionError, FailureGroup) as failure:
                    found.append(f"{_request(case)}: {failure}")

        Lifecycle.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=SCENARIO_STEPS,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    # the links were followed: objects were created and then read, changed or deleted by id
    followed = {s for s in steps if s.endswith(("200", "204")) and "{" in s}
    assert len({s.split()[1] for s in followed}) >= 8, "\n".join(sorted(set(steps)))
    assert not found, "\n".join(found)
