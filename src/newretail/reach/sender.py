"""The sender: claims due deliveries, POSTs them signed, records each answer.

A claim is a short committed transaction: the due rows are locked (PostgreSQL:
`FOR UPDATE SKIP LOCKED`, so several servers share the queue and never take one row twice;
SQLite: one writer at a time) and leased — `attempts` counts the attempt and
`next_attempt_at` moves past the time the batch may take. The requests go out with no
transaction open; each answer is recorded only if the lease is still this sender's
(`attempts` unchanged), so a sender that outlived its lease cannot overwrite a newer attempt.
A crash between the request and the record leaves the lease to run out and the delivery is
sent again with the same webhook-id, which receivers drop (at least once, never lost).

Answers: 2xx delivered; 410 disables the endpoint (its deliveries wait, this one too);
any other answer (429, 5xx, other 4xx, 3xx — redirects are not followed) or a connection
error is retried on `schedule` (429 and 5xx honour `Retry-After`), then dead (`failed`).
Other 4xx answers are retried, not dead at once, as the Standard Webhooks guidance does: a
401, 403 or 404 is most often a receiver's setup fixed within the three days.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import session_scope, utcnow
from newretail.reach import endpoints, schedule, signing
from newretail.reach.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from newretail.reach.secret_box import SecretBox

TIMEOUT_SECONDS = 10.0
BATCH = 50  # deliveries a claim takes
WORKERS = 10  # requests in flight at once
# how long a claimed batch is this sender's: every request of it may take the full timeout
LEASE = timedelta(seconds=math.ceil(BATCH / WORKERS) * TIMEOUT_SECONDS + 60)
ERROR_LENGTH = 500
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """One leased delivery, with what its request needs."""

    delivery_id: uuid.UUID
    organization_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempt: int
    message_id: str
    url: str
    body: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status (and its Retry-After) or a connection error."""

    status: int | None
    retry_after: str | None = None
    error: str | None = None


def claim_due(session: Session, box: SecretBox, now: datetime, limit: int = BATCH) -> list[Claim]:
    """Lease up to `limit` due deliveries of enabled endpoints, oldest due first."""
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=now + LEASE,
            last_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .execution_options(populate_existing=True)
    ).all()
    return [
        Claim(
            delivery_id=row.id,
            organization_id=row.organization_id,
            endpoint_id=row.endpoint_id,
            attempt=row.attempts,
            message_id=row.message_id,
            url=row.endpoint.url,
            body=signing.body_of(row.event_type, row.created_at, row.payload),
            secrets=tuple(endpoints.signing_secrets(row.endpoint, box, now)),
        )
        for row in rows
    ]


def post(client: httpx.Client, claim: Claim, now: datetime) -> Answer:
    """One signed attempt (signed at `now`; the webhook-id is the delivery's own)."""
    headers = signing.headers(claim.secrets, claim.message_id, int(now.timestamp()), claim.body)
    try:
        response = client.post(claim.url, content=claim.body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return Answer(None, error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH])
    return Answer(response.status_code, retry_after=response.headers.get("retry-after"))


def record(
    session: Session, claim: Claim, answer: Answer, now: datetime, rng: random.Random
) -> DeliveryState | None:
    """Write the attempt's outcome if the lease is still this sender's; the state it left
    (None: the lease had been taken over, nothing written)."""
    values: dict[str, object] = {"last_status": answer.status, "last_error": answer.error}
    status = answer.status
    if status is not None and 200 <= status < 300:
        values.update(state=DeliveryState.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif status == 410:
        endpoint = session.get(WebhookEndpoint, claim.endpoint_id)
        if endpoint is not None and endpoint.enabled:
            endpoints.disable(endpoint, endpoints.DisabledReason.RECEIVER_GONE, now)
        # held with the endpoint's other deliveries; sent at once if it is enabled again
        values.update(next_attempt_at=now)
    else:
        wait = schedule.next_wait(claim.attempt, rng)
        honoured = None
        if status == 429 or (status is not None and status >= 500):
            honoured = schedule.retry_after(answer.retry_after, now)
        if wait is None:
            values.update(state=DeliveryState.FAILED, next_attempt_at=None)
        else:
            values.update(next_attempt_at=now + (honoured if honoured is not None else wait))
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claim.delivery_id,
            WebhookDelivery.attempts == claim.attempt,
            WebhookDelivery.state == DeliveryState.PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return None
    state = DeliveryState(str(values.get("state", DeliveryState.PENDING)))
    if state == DeliveryState.FAILED:
        log.warning(
            "webhook %s to %s is dead after %d attempts (last: %s); resend it by hand",
            claim.message_id,
            claim.url,
            claim.attempt,
            answer.status or answer.error,
        )
    elif status == 410:
        log.warning("webhook endpoint %s answered 410 Gone: disabled", claim.url)
    return state


def deliver_due(
    sessions: sessionmaker[Session],
    box: SecretBox,
    client: httpx.Client | Callable[[], httpx.Client],
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
    organization_id: uuid.UUID | None = None,
    limit: int = BATCH,
) -> int:
    """One run: claim a batch of due deliveries (every organisation's, or one's), send them
    `WORKERS` at a time, record each; the number of attempts made. `now` is the clock of the
    whole run (tests move it; the HTTP stays real). `client` may be a function making the
    client, called only when a delivery is due (a client's TLS set-up costs milliseconds of
    CPU, and the job runs every few seconds beside the collector)."""
    now = now or utcnow()
    rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
    with session_scope(sessions, organization_id) as session:
        endpoints.drop_expired_secrets(session, now)
        claims = claim_due(session, box, now, limit)
    if not claims:
        return 0
    http = client if isinstance(client, httpx.Client) else client()

    def attempt(claim: Claim) -> None:
        answer = post(http, claim, now)
        with session_scope(sessions, claim.organization_id) as session:
            record(session, claim, answer, now, rng)

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(claims))) as pool:
        list(pool.map(attempt, claims))
    return len(claims)


def new_client() -> httpx.Client:
    """The sender's HTTP client: 10-second timeouts, redirects not followed."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
