"""The counter screen's feed: a store's offers (treated decisions on the `store_screen`
channel) as Server-Sent Events, each an `offer` event whose id is the decision's id.

What is sent is always read from committed rows (`reach_inbox_message` of the store), never
handed over in memory, so a rolled-back decision never shows and every server process shows
every decision:

- **Wake-up**: the delivery port calls `Broadcaster.notify` after the decision's transaction
  commits (`core.domain_events.after_commit`); the notification carries no offer, it only
  wakes this process's feeds of the store to read the table at once.
- **Poll**: a feed also reads every `POLL_SECONDS` (1 s), so a decision committed by another
  process shows within a second.
- **Late commits**: a decision's time is taken before its transaction commits, so one that
  commits after a later one would sort behind what was sent already; each read goes back
  `LOOKBACK` (30 s) before the newest time sent and skips the ids sent.
- **Reconnect**: with `Last-Event-ID` (the browser's EventSource sends it by itself) the feed
  first sends the store's offers after that one, in order; without it, only offers that come
  after the connection.
- **Heartbeat**: a comment line every `HEARTBEAT_SECONDS` (15 s) keeps proxies from closing
  an idle connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anyio import to_thread
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import session_scope
from newretail.identity.member_labels import member_labels
from newretail.members.models import MemberTier
from newretail.members.profile_graph import Member
from newretail.reach.decide import Channel
from newretail.reach.models import InboxMessage

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
LOOKBACK = timedelta(seconds=30)
BATCH = 200  # offers read at a time
RETRY_MS = 3000  # how long an EventSource waits before it reconnects
MEDIA_TYPE = "text/event-stream"
# a proxy (nginx) must not buffer the stream
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Waiter:
    """One feed's wake-up: set from any thread, awaited on the feed's event loop."""

    def __init__(self, store_id: uuid.UUID) -> None:
        self.store_id = store_id
        self.loop = asyncio.get_running_loop()
        self.woken = asyncio.Event()

    def wake(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.woken.set)

    async def wait(self, seconds: float) -> None:
        """Until woken or `seconds` pass; then ready to be woken again."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.woken.wait(), seconds)
        self.woken.clear()


class Broadcaster:
    """This process's feeds by organisation: a committed offer wakes the feeds of its store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[uuid.UUID, set[Waiter]] = {}

    @contextmanager
    def subscribe(self, organization_id: uuid.UUID, store_id: uuid.UUID) -> Iterator[Waiter]:
        """A waiter for the store's offers while the feed runs (on its event loop)."""
        waiter = Waiter(store_id)
        with self._lock:
            self._waiters.setdefault(organization_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            with self._lock:
                waiters = self._waiters.get(organization_id, set())
                waiters.discard(waiter)
                if not waiters:
                    self._waiters.pop(organization_id, None)

    def notify(self, organization_id: uuid.UUID, store_id: uuid.UUID) -> None:
        """Wake the store's feeds (call after the commit)."""
        with self._lock:
            waiters = [w for w in self._waiters.get(organization_id, ()) if w.store_id == store_id]
        for waiter in waiters:
            waiter.wake()

    def listening(self, organization_id: uuid.UUID) -> int:
        """How many feeds of the organisation this process serves."""
        with self._lock:
            return len(self._waiters.get(organization_id, ()))


# the process's broadcaster: the delivery port notifies it, the feed routes subscribe to it
BROADCASTER = Broadcaster()


@dataclass(frozen=True)
class ScreenOffer:
    """An offer as the counter's screen shows it: the member by name (else a masked phone
    or e-mail) and tier, no internal id but the coupon the till takes."""

    decision_id: uuid.UUID
    sent_at: datetime
    member: str | None
    tier: str | None
    offer_name: str
    offer_code: str
    coupon: uuid.UUID
    campaign: str
    stage: str
    expires_at: datetime

    def event(self) -> str:
        """The SSE event (`event: offer`, `id`, one `data` line of JSON)."""
        data = {
            "member": self.member,
            "tier": self.tier,
            "offer_name": self.offer_name,
            "offer_code": self.offer_code,
            "coupon": str(self.coupon),
            "campaign": self.campaign,
            "stage": self.stage,
            "sent_at": self.sent_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return f"event: offer\nid: {self.decision_id}\ndata: {body}\n\n"


def _of_store(store_id: uuid.UUID) -> Select[Any]:
    return select(InboxMessage).where(
        InboxMessage.store_id == store_id, InboxMessage.channel == Channel.STORE_SCREEN
    )


def messages_from(
    session: Session,
    store_id: uuid.UUID,
    since: datetime | None,
    sent: Collection[uuid.UUID] = (),
) -> list[InboxMessage]:
    """The store's screen messages at or after `since` (all without) but those `sent`,
    oldest first, `BATCH` at most."""
    statement = _of_store(store_id)
    if since is not None:
        statement = statement.where(InboxMessage.created_at >= since)
    if sent:
        statement = statement.where(InboxMessage.id.not_in(list(sent)))
    order = (InboxMessage.created_at, InboxMessage.id)
    return list(session.scalars(statement.order_by(*order).limit(BATCH)))


def screen_offers(session: Session, messages: list[InboxMessage]) -> list[ScreenOffer]:
    """The messages as the screen shows them: the member's label and tier."""
    labels = member_labels(session, (m.member_id for m in messages))
    roots = {label.member_id for label in labels.values()}
    rows = session.execute(
        select(Member.id, MemberTier.name)
        .join(MemberTier, MemberTier.id == Member.tier_id)
        .where(Member.id.in_(roots))
    )
    tiers = {member_id: tier for member_id, tier in rows}
    offers = []
    for m in messages:
        label = labels.get(m.member_id)
        offers.append(
            ScreenOffer(
                decision_id=m.decision_id,
                sent_at=m.created_at,
                member=(label.name or label.contact) if label else None,
                tier=tiers.get(label.member_id) if label else None,
                offer_name=m.offer_name,
                offer_code=m.offer_code,
                coupon=m.coupon_id,
                campaign=m.campaign_name,
                stage=m.stage_name,
                expires_at=m.expires_at,
            )
        )
    return offers


@dataclass
class FeedCursor:
    """Where a feed is: the newest time sent and the ids sent within `LOOKBACK` of it."""

    store_id: uuid.UUID
    newest: datetime | None = None
    sent: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def start(self, session: Session, last_event_id: str | None) -> None:
        """After the offer named by Last-Event-ID, else after the store's newest offer: what
        is at or before it (within the lookback) counts as sent."""
        after = self._message_of(session, last_event_id)
        if after is None:
            after = session.scalar(
                _of_store(self.store_id)
                .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
                .limit(1)
            )
        if after is None:
            return
        self.newest = after.created_at
        key = (after.created_at, after.id)
        window = _of_store(self.store_id).where(
            InboxMessage.created_at >= after.created_at - LOOKBACK,
            InboxMessage.created_at <= after.created_at,
        )
        for message in session.scalars(window):
            if (message.created_at, message.id) <= key:
                self.sent[message.id] = message.created_at

    def _message_of(self, session: Session, last_event_id: str | None) -> InboxMessage | None:
        try:
            decision_id = uuid.UUID(last_event_id or "")
        except ValueError:
            return None
        found = session.scalar(select(InboxMessage).where(InboxMessage.decision_id == decision_id))
        return found if found is not None and found.store_id == self.store_id else None

    def read(self, session: Session) -> list[ScreenOffer]:
        """The offers not sent yet, oldest first; marked sent."""
        since = None if self.newest is None else self.newest - LOOKBACK
        fresh = messages_from(session, self.store_id, since, self.sent)
        for message in fresh:
            self.sent[message.id] = message.created_at
            if self.newest is None or message.created_at > self.newest:
                self.newest = message.created_at
        if self.newest is not None:
            horizon = self.newest - LOOKBACK
            self.sent = {k: at for k, at in self.sent.items() if at >= horizon}
        return screen_offers(session, fresh) if fresh else []


@dataclass(frozen=True)
class Feed:
    """One connection's feed of a store's offers, from where its cursor started."""

    sessions: sessionmaker[Session]
    organization_id: uuid.UUID
    cursor: FeedCursor
    broadcaster: Broadcaster = BROADCASTER
    poll_seconds: float = POLL_SECONDS
    heartbeat_seconds: float = HEARTBEAT_SECONDS

    def _read(self) -> list[ScreenOffer]:
        with session_scope(self.sessions, self.organization_id) as session:
            return self.cursor.read(session)

    async def events(self) -> AsyncIterator[str]:
        """The SSE text: the retry delay, then the offers after the cursor's start (the
        missed ones after a reconnect) and each new one as it commits, with heartbeats
        between; the server stops it when the client goes."""
        store_id = self.cursor.store_id
        with self.broadcaster.subscribe(self.organization_id, store_id) as waiter:
            yield f"retry: {RETRY_MS}\n\n"
            loop = asyncio.get_running_loop()
            quiet_since = loop.time()
            while True:
                offers = await to_thread.run_sync(self._read)
                for offer in offers:
                    yield offer.event()
                if len(offers) == BATCH:
                    continue  # more are waiting (a reconnect after a long gap)
                if offers:
                    quiet_since = loop.time()
                elif loop.time() - quiet_since >= self.heartbeat_seconds:
                    yield ": heartbeat\n\n"
                    quiet_since = loop.time()
                await waiter.wait(self.poll_seconds)


def open_feed(
    session: Session,
    sessions: sessionmaker[Session],
    organization_id: uuid.UUID,
    store_id: uuid.UUID,
    last_event_id: str | None,
) -> Feed:
    """A store's feed starting now (in the request, before the answer starts: an offer
    decided once the client has the answer's headers is sent), or after Last-Event-ID."""
    cursor = FeedCursor(store_id)
    cursor.start(session, last_event_id)
    return Feed(sessions, organization_id, cursor)
