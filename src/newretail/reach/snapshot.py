"""The heavy part of the decision, precomputed per organisation: the active rules by event
type with their stage's days, audiences and holdout, the stores' hours and zones, the quiet
hours and the global cap.

A process keeps one snapshot per organisation and rebuilds it when the stored version moves
(`version_of`: counts and latest changes of rules, campaigns, stores, audiences and settings),
checking at most every `check_seconds` — so a change made by another process is seen within
that time, and one made here at once (`invalidate`). The audiences' members come from the
process's realtime membership index, loaded for the versions the snapshot names.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.audiences import realtime
from newretail.audiences.models import Audience
from newretail.audiences.tables import open_warehouse
from newretail.core import domain_events
from newretail.core.database import session_scope
from newretail.core.localtime import local_days_bounds
from newretail.marketing.models import Campaign, CampaignState
from newretail.reach.decide import (
    Channel,
    CompiledRule,
    PropertyFilter,
    QuietHours,
    StoreHours,
    TriggerEvent,
    minute_of,
)
from newretail.reach.models import ReachSettings, TriggerRule
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.warehouse.connection import Warehouse

ANY_TYPE = "*"
# changes committed in this process, per organisation: a snapshot built before the last one
# is rebuilt at once (other processes see the change through `version_of`)
_changes: dict[uuid.UUID, int] = {}
_changes_lock = threading.Lock()
# campaigns whose rules can fire: scheduled ones (running inside their days, by
# `campaigns.state_at`); drafts, paused and ended campaigns reach nobody
LIVE_STATES = (CampaignState.SCHEDULED,)


@dataclass(frozen=True)
class OrgSnapshot:
    """What every decision of one organisation reads, in memory."""

    version: tuple[Any, ...]
    time_zone: str  # the organisation's (a store's own zone where the event has a store)
    rules_by_type: dict[str, tuple[CompiledRule, ...]]
    stores: dict[uuid.UUID, StoreHours]
    quiet_hours: QuietHours | None
    global_daily_cap: int | None
    audience_versions: dict[str, str]  # audiences the rules need, by their stored version

    def rules_for(self, event: TriggerEvent) -> list[CompiledRule]:
        """The rules the event matches (its type's, then any type's)."""
        candidates = self.rules_by_type.get(event.event_type, ()) + self.rules_by_type.get(
            ANY_TYPE, ()
        )
        return [rule for rule in candidates if rule.matches(event)]

    def zone_at(self, store_id: uuid.UUID | None) -> str:
        """The calendar of an event: its store's zone, else the organisation's."""
        store = None if store_id is None else self.stores.get(store_id)
        return self.time_zone if store is None else store.time_zone


def _latest(column: Any) -> Any:
    return select(func.max(column)).scalar_subquery()


def _count(model: Any) -> Any:
    return select(func.count()).select_from(model).scalar_subquery()


def version_of(session: Session) -> tuple[Any, ...]:
    """The organisation's stored version of everything a snapshot is built from (one query)."""
    row = session.execute(
        select(
            _count(TriggerRule),
            _latest(TriggerRule.created_at),
            _latest(TriggerRule.updated_at),
            _count(Campaign),
            _latest(Campaign.created_at),
            _latest(Campaign.updated_at),
            _count(Store),
            _latest(Store.created_at),
            _latest(Store.updated_at),
            _latest(Audience.refreshed_at),
            _latest(ReachSettings.updated_at),
            _latest(ReachSettings.created_at),
        )
    ).one()
    return tuple(row)


def _filters(stored: list[dict[str, Any]]) -> tuple[PropertyFilter, ...]:
    return tuple(
        PropertyFilter(f["property"], (f["value"],) if f["op"] == "equals" else tuple(f["values"]))
        for f in stored
    )


def _rule_stores(rule: TriggerRule, stores: list[Store]) -> frozenset[uuid.UUID] | None:
    """The stores a rule names, by id, city or district (None: it names none, any store)."""
    if not (rule.store_ids or rule.cities or rule.districts):
        return None
    named = {uuid.UUID(s) for s in rule.store_ids}
    return frozenset(
        s.id
        for s in stores
        if s.id in named or s.city in rule.cities or s.district in rule.districts
    )


def build(session: Session, organization_id: uuid.UUID) -> OrgSnapshot:
    """Compile the organisation's active rules of live campaigns."""
    version = version_of(session)
    zone_name = tenancy_service.organisation_zone(session, organization_id)
    stores = list(session.scalars(select(Store)))
    settings = session.scalar(select(ReachSettings))
    live = {
        c.id: c for c in session.scalars(select(Campaign).where(Campaign.state.in_(LIVE_STATES)))
    }
    by_type: dict[str, list[CompiledRule]] = {}
    audiences: set[str] = set()
    for rule in session.scalars(
        select(TriggerRule).where(TriggerRule.active.is_(True)).order_by(TriggerRule.name)
    ):
        campaign = live.get(rule.campaign_id)
        stage = None
        if campaign is not None:
            stage = next((s for s in campaign.stages if s.position == rule.stage_position), None)
        if campaign is None or stage is None:
            continue
        starts_at, ends_at = local_days_bounds(stage.first_day, stage.last_day, zone_name)
        compiled = CompiledRule(
            rule_id=rule.id,
            name=rule.name,
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            stage_position=stage.position,
            stage_key=stage.stage_key,
            starts_at=starts_at,
            ends_at=ends_at,
            audience_ids=tuple(stage.audience_ids),
            holdout_percent=campaign.holdout_percent,
            event_types=frozenset(rule.event_types),
            filters=_filters(rule.property_filters),
            store_ids=_rule_stores(rule, stores),
            channel=Channel(rule.channel),
            offer_id=rule.offer_id,
            sku_ids=tuple(uuid.UUID(s) for s in rule.sku_ids),
            reentry_minutes=rule.reentry_minutes,
            daily_cap=rule.daily_cap,
            weekly_cap=rule.weekly_cap,
        )
        audiences.update(compiled.audience_ids)
        for event_type in rule.event_types or [ANY_TYPE]:
            by_type.setdefault(event_type, []).append(compiled)
    versions: dict[str, str] = {}
    if audiences:
        rows = session.execute(
            select(Audience.id, Audience.version).where(
                Audience.id.in_([uuid.UUID(a) for a in audiences])
            )
        )
        versions = {str(a): v for a, v in rows if v is not None}
    quiet = None
    if settings is not None and settings.quiet_start and settings.quiet_end:
        quiet = QuietHours(minute_of(settings.quiet_start), minute_of(settings.quiet_end))
    return OrgSnapshot(
        version=version,
        time_zone=zone_name,
        rules_by_type={t: tuple(rules) for t, rules in by_type.items()},
        stores={s.id: StoreHours(s.time_zone, s.opening_hours or {}) for s in stores},
        quiet_hours=quiet,
        global_daily_cap=None if settings is None else settings.global_daily_cap,
        audience_versions=versions,
    )


def changed_after_commit(session: Session, organization_id: uuid.UUID) -> None:
    """Rules or settings of the organisation change in this transaction: once it commits,
    this process's snapshots of it are stale."""

    def bump() -> None:
        with _changes_lock:
            _changes[organization_id] = _changes.get(organization_id, 0) + 1

    domain_events.after_commit(session, bump)


@dataclass
class _Held:
    snapshot: OrgSnapshot
    checked: float
    generation: int


class TriggerSnapshots:
    """The process's snapshots, one per organisation, and its audiences' members."""

    def __init__(
        self,
        warehouse: Warehouse,
        check_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.warehouse = warehouse
        self.index = realtime.index_for(warehouse)
        self.check_seconds = check_seconds
        self._clock = clock
        self._held: dict[uuid.UUID, _Held] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, organization_id: uuid.UUID) -> OrgSnapshot:
        """The organisation's snapshot, rebuilt when its stored version moved."""
        held, built = self._held_or_built(session, organization_id)
        return held if built is None else self._keep(organization_id, built)

    def refresh(self, sessions: sessionmaker[Session], organization_id: uuid.UUID) -> OrgSnapshot:
        """`get` before a transaction that decides: a snapshot to rebuild is built in a short
        transaction of its own and its audiences' members loaded from the warehouse after it
        commits — on SQLite every transaction holds the one write lock, which must not wait
        on a warehouse busy with a refresh or a backfill. The decisions' own `get` then finds
        it. A snapshot checked within `check_seconds` needs no transaction at all."""
        recent = self._recent(organization_id)
        if recent is not None:
            return recent
        with session_scope(sessions, organization_id) as session:
            held, built = self._held_or_built(session, organization_id)
        return held if built is None else self._keep(organization_id, built)

    def _held_or_built(
        self, session: Session, organization_id: uuid.UUID
    ) -> tuple[OrgSnapshot, _Held | None]:
        """The snapshot held if still fresh, else a new one built (its audiences not loaded
        yet, not kept yet)."""
        held = self._fresh(session, organization_id)
        if held is not None:
            return held, None
        now, generation = self._clock(), _changes.get(organization_id, 0)
        snapshot = build(session, organization_id)
        return snapshot, _Held(snapshot, now, generation)

    def _fresh(self, session: Session, organization_id: uuid.UUID) -> OrgSnapshot | None:
        """The snapshot held, if its stored version has not moved (checked at most every
        `check_seconds`, at once after a change in this process)."""
        recent = self._recent(organization_id)
        if recent is not None:
            return recent
        held = self._held.get(organization_id)
        if held is None or held.generation != _changes.get(organization_id, 0):
            return None
        if held.snapshot.version == version_of(session):
            held.checked = self._clock()
            return held.snapshot
        return None

    def _recent(self, organization_id: uuid.UUID) -> OrgSnapshot | None:
        """The snapshot held, if no change in this process touched it and its stored version
        was checked less than `check_seconds` ago."""
        held = self._held.get(organization_id)
        if held is None or held.generation != _changes.get(organization_id, 0):
            return None
        return held.snapshot if self._clock() - held.checked < self.check_seconds else None

    def _keep(self, organization_id: uuid.UUID, built: _Held) -> OrgSnapshot:
        """Load a built snapshot's audiences, then keep it for the next decisions."""
        self._load_audiences(organization_id, built.snapshot)
        with self._lock:
            self._held[organization_id] = built
        return built.snapshot

    def invalidate(self, organization_id: uuid.UUID) -> None:
        """Forget the organisation's snapshot (its rules changed in this process)."""
        with self._lock:
            self._held.pop(organization_id, None)

    def _load_audiences(self, organization_id: uuid.UUID, snapshot: OrgSnapshot) -> None:
        org = str(organization_id)
        missing = {
            a: v for a, v in snapshot.audience_versions.items() if self.index.version(org, a) != v
        }
        if missing:
            with open_warehouse(self.warehouse) as con:
                for audience_id, version in missing.items():
                    self.index.ensure(con, org, audience_id, version)

    def in_audience(
        self, organization_id: uuid.UUID, rule: CompiledRule, member_id: uuid.UUID
    ) -> bool:
        """In one of the stage's audiences (a stage with none targets every member)."""
        if not rule.audience_ids:
            return True
        org, member = str(organization_id), str(member_id)
        return any(self.index.contains(org, a, member) for a in rule.audience_ids)
