"""Marketing's ledger tests issue to bare member ids (no member rows, so no consent rows):
they stand in "everyone consents" for the members domain's rule. The consent rule itself, on
real members through the bulk issue, the API, the console and the CLI, is tested in
tests/privacy/test_consent_activations.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy.orm import Session

from newretail.marketing import consent_port


def everyone(session: Session, member_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return set(member_ids)


@pytest.fixture(autouse=True)
def everyone_consents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consent_port, "consenting", everyone)
