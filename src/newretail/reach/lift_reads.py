"""The lift report as the API, the CLI and the console show it: a measured campaign (stage)
with names (campaign, stage, stores, channel labels), exposures in the organisation's zone
with their offset, every interval with its gap, and what to do next."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found
from newretail.core.i18n import Translate
from newretail.core.localtime import to_local
from newretail.core.reads import read_of
from newretail.members.profile_graph import Member
from newretail.reach import reads
from newretail.reach.decide import Reason
from newretail.reach.intervals import critical_value
from newretail.reach.lift import LiftReport, wilson_interval
from newretail.reach.measurement import ARMS, ArmOutcome, Measurement, holdout_share
from newretail.reach.models import ReachDecision
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Principal

POWER = 0.8


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class IntervalRead(_Read):
    """An estimate and its 95 % interval; `gap` says why a part is null."""

    estimate: float | None
    low: float | None
    high: float | None
    gap: str | None


class MoneyIntervalRead(_Read):
    estimate: Decimal | None
    low: Decimal | None
    high: Decimal | None
    gap: str | None


class ArmRead(BaseModel):
    """One arm in the attribution window."""

    members: int
    converted: int
    rate: float | None
    rate_low: float | None  # Wilson interval of the arm's own rate
    rate_high: float | None
    converted_where_reached: int  # bought at the store whose event reached them
    spend_per_member: float
    redeemed_members: int  # the holdout holds no coupon: 0
    online_interest: int  # with an online interest event before their exposure
    online_interest_converted: int  # of those, bought in the window
    online_interest_bought_offline: int  # of those, bought in the window offline


class SampleRatioRead(_Read):
    expected_holdout_share: float
    observed_holdout_share: float | None
    chi_square: float
    p_value: float
    mismatch: bool


class DetectableEffectRead(_Read):
    """The smallest true lift detectable at 80 % power with the current arms."""

    effect_size: float | None
    absolute: float | None
    relative: float | None
    gap: str | None


class WhereBoughtRead(BaseModel):
    """Converters of an arm by the store (its name; none online) and channel they bought in."""

    arm: str
    store_id: uuid.UUID | None
    store_name: str | None
    channel: str | None
    channel_label: str
    converters: int
    purchases: int
    gmv: Decimal


class HintRead(BaseModel):
    """What to do next: a code, its figure where one applies, and its text."""

    code: str
    members_needed: int | None
    text: str


class LiftReportRead(BaseModel):
    """The lift of a campaign (stage) against its holdout (docs/reach.md, "Lift report")."""

    campaign_id: uuid.UUID
    campaign_name: str
    stage: int | None
    stage_name: str | None
    window_days: int
    time_zone: str
    holdout_percent: int
    alpha: float
    first_exposure: datetime | None
    last_exposure: datetime | None
    both_arms: int
    treated: ArmRead
    holdout: ArmRead
    difference: IntervalRead
    relative_lift: IntervalRead
    ratio: IntervalRead
    incremental_purchasers: IntervalRead
    incremental_gmv: MoneyIntervalRead | None
    incremental_gmv_cuped: MoneyIntervalRead | None
    cuped_theta: float | None
    cost: Decimal
    redeemed_coupons: int
    cost_per_incremental_purchaser: MoneyIntervalRead | None
    sample_ratio: SampleRatioRead | None  # None: no holdout configured, nothing to check
    detectable_effect: DetectableEffectRead
    where_bought: list[WhereBoughtRead]
    hints: list[HintRead]


@dataclass(frozen=True)
class Hint:
    code: str
    members_needed: int | None = None


def members_needed(report: LiftReport, power: float = POWER) -> int | None:
    """More members (both arms, at the current split) for the observed difference of rates
    to be detected at `power` (Cohen's h, the normal approximation the MDE solves); None when
    there is no difference to detect."""
    p1, p0 = report.treated_rate, report.holdout_rate
    total = report.treated.members + report.holdout.members
    if p1 is None or p0 is None or total == 0:
        return None
    effect = abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0)))
    if effect == 0:
        return None
    share = report.holdout.members / total
    z = critical_value(report.alpha) + NormalDist().inv_cdf(power)
    needed_total = (z / effect) ** 2 / (share * (1 - share))
    return max(math.ceil(needed_total) - total, 0)


def hints(report: LiftReport, holdout_configured: bool = True) -> list[Hint]:
    """What the figures ask for, most urgent first (the sample ratio only where a holdout
    share was configured: without one, an empty holdout is the plan, not a mismatch)."""
    found: list[Hint] = []
    if holdout_configured and report.sample_ratio.mismatch:
        found.append(Hint("sample_ratio_mismatch"))
    difference = report.difference
    if report.treated.members == 0 or report.holdout.members == 0:
        found.append(Hint("empty_arm"))
    elif difference.low is not None and difference.low > 0:
        found.append(Hint("lift_established"))
    elif difference.high is not None and difference.high < 0:
        found.append(Hint("lift_negative"))
    else:
        more = members_needed(report)
        if more is None:
            found.append(Hint("no_difference"))
        elif more == 0:
            found.append(Hint("not_significant_powered"))
        else:
            found.append(Hint("not_significant", more))
    return found


def _arm(outcome: ArmOutcome, redeemed: int) -> ArmRead:
    low = high = rate = None
    if outcome.members:
        rate = outcome.converted / outcome.members
        low, high = wilson_interval(outcome.converted, outcome.members)
    return read_of(
        ArmRead,
        outcome,
        rate=rate,
        rate_low=low,
        rate_high=high,
        spend_per_member=round(outcome.spend.mean, 2),
        redeemed_members=redeemed,
    )


def _local(moment: datetime | None, zone: str) -> datetime | None:
    return None if moment is None else to_local(moment, zone)


def report_read(
    session: Session, principal: Principal, measured: Measurement, t: Translate
) -> LiftReportRead:
    """The measured report with names, local dates and hints in `t`'s language."""
    report = measured.report
    assert report is not None
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    campaign = measured.campaign
    stage = next((s for s in campaign.stages if s.position == measured.stage_position), None)
    names = reads.store_names(session, (w.store_id for w in measured.where_bought))
    configured = campaign.holdout_percent > 0
    return LiftReportRead(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        stage=measured.stage_position,
        stage_name=None if stage is None else stage.name,
        window_days=measured.window_days,
        time_zone=zone,
        holdout_percent=campaign.holdout_percent,
        alpha=report.alpha,
        first_exposure=_local(measured.first_exposure, zone),
        last_exposure=_local(measured.last_exposure, zone),
        both_arms=measured.both_arms,
        treated=_arm(measured.treated, measured.redeemed_members),
        holdout=_arm(measured.holdout, 0),
        difference=IntervalRead.model_validate(report.difference),
        relative_lift=IntervalRead.model_validate(report.relative_lift),
        ratio=IntervalRead.model_validate(report.ratio),
        incremental_purchasers=IntervalRead.model_validate(report.incremental_purchasers),
        incremental_gmv=_money(report.incremental_gmv),
        incremental_gmv_cuped=_money(report.incremental_gmv_cuped),
        cuped_theta=report.cuped_theta,
        cost=measured.cost,
        redeemed_coupons=measured.redeemed_coupons,
        cost_per_incremental_purchaser=_money(report.cost_per_incremental_purchaser),
        sample_ratio=(SampleRatioRead.model_validate(report.sample_ratio) if configured else None),
        detectable_effect=DetectableEffectRead.model_validate(report.detectable_effect),
        where_bought=[
            WhereBoughtRead(
                arm=w.arm.value,
                store_id=w.store_id,
                store_name=None if w.store_id is None else names.get(w.store_id),
                channel=w.channel,
                channel_label=t(f"channel.{w.channel}") if w.channel else "—",
                converters=w.converters,
                purchases=w.purchases,
                gmv=w.gmv,
            )
            for w in measured.where_bought
        ],
        hints=[_hint(h, report, measured, t) for h in hints(report, configured)],
    )


def _money(found: object) -> MoneyIntervalRead | None:
    return None if found is None else MoneyIntervalRead.model_validate(found)


def _hint(hint: Hint, report: LiftReport, measured: Measurement, t: Translate) -> HintRead:
    values: dict[str, object] = {}
    if hint.members_needed is not None:
        values["members"] = f"{hint.members_needed:,}"
    if hint.code == "lift_established":
        per = report.cost_per_incremental_purchaser
        values["cost"] = "—" if per is None or per.estimate is None else f"{per.estimate:,.2f}"
    if hint.code == "sample_ratio_mismatch":
        values["share"] = f"{holdout_share(measured.campaign):.0%}"
    text = t(f"reach.lift.hint.{hint.code}", **values)
    return HintRead(code=hint.code, members_needed=hint.members_needed, text=text)


def arm_label(arm: str, t: Translate) -> str:
    """The arm's name in `t`'s language."""
    return t(f"reach.lift.arm.{Reason(arm).value}")


class ExposureRead(BaseModel):
    """A member's treated or holdout decision on a campaign stage."""

    campaign_id: uuid.UUID
    stage: int
    reason: str
    store_id: uuid.UUID | None
    occurred_at: datetime
    coupon_id: uuid.UUID | None


def member_exposures(
    session: Session, member_id: uuid.UUID, campaign_id: uuid.UUID | None
) -> list[ExposureRead]:
    """The member's treated and holdout decisions, oldest first (404 for no such member)."""
    get_or_not_found(session, Member, member_id, "member", field="member_id")
    query = select(ReachDecision).where(
        ReachDecision.member_id == member_id, ReachDecision.reason.in_(ARMS)
    )
    if campaign_id is not None:
        query = query.where(ReachDecision.campaign_id == campaign_id)
    found = session.scalars(query.order_by(ReachDecision.occurred_at, ReachDecision.event_id))
    return [read_of(ExposureRead, d, stage=d.stage_position) for d in found]


def detectable_sentence(t: Translate, effect: DetectableEffectRead) -> str:
    """The minimum detectable effect in words: the lift in points and, when the holdout has
    conversions to relate it to, its share of the holdout's rate; or why nothing is
    detectable."""
    if effect.absolute is None:
        return t(f"reach.lift_gap.{effect.gap}") if effect.gap else "—"
    points = f"{100 * effect.absolute:.2f}"
    if effect.relative is None:
        return t("reach.lift.mde_points", points=points)
    return t("reach.lift.mde", points=points, relative=f"{100 * effect.relative:.0f} %")
