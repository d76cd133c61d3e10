"""Peer tiers: exact tiers, statistics, grades and next-tier amounts on hand-built groups; a
generated 1,000-store organisation against an independent numpy/scipy computation; Hypothesis
properties (monotone tiers, tier counts following the cut-points, next-tier amounts minimal)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy.stats import percentileofscore

from newretail.diagnosis.errors import InvalidPeerInput, PeerWithholding
from newretail.diagnosis.tiers import (
    Grade,
    MetricStatistics,
    PeerGroup,
    StoreFigures,
    TierConfig,
    tier_of,
    tier_peers,
)
from newretail.tenancy.models import ChannelType

CUTS = (40, 65, 85, 95, 99)
LIPSTICK_COUNTERS = PeerGroup("lipstick", ChannelType.COUNTER)


def sid(number: int) -> uuid.UUID:
    return uuid.UUID(int=number)


def counter(number: int, gmv: str | int, **metrics: Decimal | float | None) -> StoreFigures:
    return StoreFigures(sid(number), "lipstick", ChannelType.COUNTER, Decimal(gmv), metrics)


def tiers_of(stores: list[StoreFigures], config: TierConfig | None = None) -> list[int]:
    placed = tier_peers(stores, config)
    return [placed.stores[store.store_id].tier for store in stores]


# --- tiers on hand-built groups ------------------------------------------------------------


def test_zero_gmv_is_tier_1_and_equal_gmv_shares_a_tier() -> None:
    gmvs = ["0", "0", "5", "5", "5", "8", "8", "9", "12", "12", "12", "20"]
    stores = [counter(number, gmv) for number, gmv in enumerate(gmvs)]
    # 10 stores with sales; at or below: 5 → 3 (30 %), 8 → 5 (50 %), 9 → 6 (60 %),
    # 12 → 9 (90 %), 20 → 10 (100 %)
    assert tiers_of(stores) == [1, 1, 2, 2, 2, 3, 3, 3, 5, 5, 5, 7]
    placed = tier_peers(stores)
    assert placed.stores[sid(0)].percentile_rank is None
    assert placed.stores[sid(7)].percentile_rank == 60.0
    assert placed.stores[sid(11)].percentile_rank == 100.0
    # docs/diagnosis.md's example: the 9 needs 12 (then 9 of 10 at or below: tier 5)
    assert placed.stores[sid(7)].gmv_to_next_tier == Decimal(3)
    assert placed.cell_of(sid(7)).withheld == PeerWithholding.TOO_FEW_STORES


def test_a_negative_gmv_after_refunds_is_tier_1() -> None:
    assert tiers_of([counter(1, "-12.50"), counter(2, "3")]) == [1, 7]


def test_one_to_a_hundred_fills_the_tiers_in_the_default_proportions() -> None:
    stores = [counter(number, number) for number in range(1, 101)]
    tiers = tiers_of(stores)
    assert [tiers.count(tier) for tier in range(1, 8)] == [0, 40, 25, 20, 10, 4, 1]
    assert tiers[39:42] == [2, 3, 3]  # GMV 40 is at the 40th percentile, not above it


def test_a_group_of_one_store() -> None:
    placed = tier_peers([counter(1, "880.00", conversion=0.2)])
    alone = placed.stores[sid(1)]
    assert (alone.tier, alone.percentile_rank) == (7, 100.0)
    assert (alone.gmv_to_next_tier, alone.next_tier_withheld) == (None, PeerWithholding.TOP_TIER)
    assert placed.cells[(LIPSTICK_COUNTERS, 7)].withheld == PeerWithholding.TOO_FEW_STORES
    assert alone.grades["conversion"].grade is None
    assert alone.grades["conversion"].withheld == PeerWithholding.TOO_FEW_STORES

    closed = tier_peers([counter(1, "0")]).stores[sid(1)]
    assert (closed.tier, closed.gmv_to_next_tier) == (1, Decimal("0.01"))


def test_groups_are_category_by_format() -> None:
    stores = [
        counter(1, "100"),
        counter(2, "200"),
        StoreFigures(sid(3), "lipstick", ChannelType.POPUP, Decimal("50"), {}),
        StoreFigures(sid(4), "perfume", ChannelType.COUNTER, Decimal("60"), {}),
    ]
    assert tiers_of(stores) == [3, 7, 7, 7]
    assert set(tier_peers(stores).cells) == {
        (LIPSTICK_COUNTERS, 3),
        (LIPSTICK_COUNTERS, 7),
        (PeerGroup("lipstick", ChannelType.POPUP), 7),
        (PeerGroup("perfume", ChannelType.COUNTER), 7),
    }


def test_custom_cut_points_make_fewer_tiers() -> None:
    config = TierConfig(cut_points=(Decimal(50),))
    stores = [counter(number, number) for number in range(5)]
    assert config.top_tier == 3
    assert tiers_of(stores, config) == [1, 2, 2, 3, 3]


def test_tier_of_compares_exactly_at_a_cut() -> None:
    # 199 of 200 at or below: 99.5 % > 99; 198 of 200: exactly 99 %, not above 99
    assert tier_of(199, 200, TierConfig().cut_points) == 7
    assert tier_of(198, 200, TierConfig().cut_points) == 6
    assert tier_of(297, 300, TierConfig().cut_points) == 6


# --- the GMV to reach the next tier ---------------------------------------------------------


def test_gmv_to_reach_the_next_tier() -> None:
    stores = [counter(number, number) for number in range(1, 101)] + [counter(0, "0")]
    placed = tier_peers(stores).stores
    # GMV 40 (tier 2) reaching 41 ties with the store at 41: 41 of 100 at or below, tier 3
    assert placed[sid(40)].gmv_to_next_tier == Decimal(1)
    # GMV 1 must tie with 41 too: the others at or below are then 2..41 (40 stores)
    assert placed[sid(1)].gmv_to_next_tier == Decimal(40)
    assert placed[sid(99)].gmv_to_next_tier == Decimal(1)
    assert placed[sid(100)].gmv_to_next_tier is None
    # a store without sales: any sale is tier 2 or above
    assert placed[sid(0)].gmv_to_next_tier == Decimal("0.01")
    assert placed[sid(0)].next_tier_withheld is None


def test_next_tier_amount_of_a_store_with_negative_gmv() -> None:
    stores = [counter(1, "-5.20"), *(counter(number, number) for number in range(2, 9))]
    assert tier_peers(stores).stores[sid(1)].gmv_to_next_tier == Decimal("5.21")


def test_next_tier_amount_is_withheld_among_too_few_peers() -> None:
    # the amount is a peer's GMV: with 4 other stores with sales it is not shown
    stores = [counter(number, number * 10) for number in range(1, 6)]
    store = tier_peers(stores).stores[sid(1)]
    assert (store.tier, store.gmv_to_next_tier) == (2, None)
    assert store.next_tier_withheld == PeerWithholding.TOO_FEW_STORES
    shown = tier_peers(stores, TierConfig(min_peers=4)).stores[sid(1)]
    # 10 → 30 ties the third store: 3 of 5 at or below, 60 %, tier 3
    assert (shown.gmv_to_next_tier, shown.next_tier_withheld) == (Decimal(20), None)


# --- statistics, grades, privacy -------------------------------------------------------------


def test_cell_statistics_and_grades_both_directions() -> None:
    values = ["1", "2", "3", "4", "10"]
    stores = [
        counter(number, "100", order_value=Decimal(value), refund_rate=Decimal(value))
        for number, value in enumerate(values)
    ]
    placed = tier_peers(stores, TierConfig(lower_is_better=frozenset({"refund_rate"})))
    cell = placed.cell_of(sid(0))
    assert (cell.tier, cell.stores, cell.withheld) == (7, 5, None)
    expected = MetricStatistics(
        values=5, mean=Decimal(4), median=Decimal(3), p10=Decimal("1.4"), p90=Decimal("7.6")
    )
    assert cell.metrics["order_value"].statistics == expected
    assert cell.metrics["refund_rate"].statistics == expected
    grades = {
        name: [placed.stores[sid(number)].grades[name].grade for number in range(5)]
        for name in ("order_value", "refund_rate")
    }
    assert grades["order_value"] == [
        Grade.POOR,
        Grade.POOR,
        Grade.GOOD,
        Grade.GOOD,
        Grade.EXCELLENT,
    ]
    assert grades["refund_rate"] == [
        Grade.EXCELLENT,
        Grade.GOOD,
        Grade.GOOD,
        Grade.POOR,
        Grade.POOR,
    ]


def test_float_metrics_give_float_statistics_like_numpy() -> None:
    rates = [0.031, 0.052, 0.048, 0.07, 0.012, 0.052]
    stores = [counter(number, "10", conversion=rate) for number, rate in enumerate(rates)]
    statistics = tier_peers(stores).cell_of(sid(0)).metrics["conversion"].statistics
    assert statistics is not None
    assert statistics.median == 0.05
    assert isinstance(statistics.mean, float)
    assert statistics.mean == pytest.approx(float(np.mean(rates)), rel=1e-15)
    assert statistics.p90 == pytest.approx(float(np.percentile(rates, 90)), rel=1e-15)
    assert statistics.p10 == pytest.approx(float(np.percentile(rates, 10)), rel=1e-15)


def test_a_cell_below_the_privacy_minimum_is_withheld() -> None:
    stores = [counter(number, "10", conversion=0.1 * number) for number in range(4)]
    placed = tier_peers(stores)
    cell = placed.cell_of(sid(0))
    assert (cell.stores, cell.withheld) == (4, PeerWithholding.TOO_FEW_STORES)
    assert cell.metrics["conversion"].statistics is None
    assert cell.metrics["conversion"].withheld == PeerWithholding.TOO_FEW_STORES
    assert placed.stores[sid(1)].grades["conversion"].value == 0.1
    assert placed.stores[sid(1)].grades["conversion"].grade is None
    # the minimum is configurable
    published = tier_peers(stores, TierConfig(min_peers=4)).cell_of(sid(0))
    assert published.withheld is None
    assert published.metrics["conversion"].statistics is not None


def test_a_metric_with_too_few_values_is_withheld_and_a_missing_value_not_graded() -> None:
    stores = [counter(number, "10", footfall=Decimal(number * 100)) for number in range(4)]
    stores += [counter(4, "10", footfall=None), counter(5, "10")]
    placed = tier_peers(stores)
    cell = placed.cell_of(sid(0))
    assert (cell.stores, cell.withheld) == (6, None)
    assert cell.metrics["footfall"].statistics is None
    assert cell.metrics["footfall"].withheld == PeerWithholding.TOO_FEW_VALUES
    assert placed.stores[sid(0)].grades["footfall"].withheld == PeerWithholding.TOO_FEW_VALUES
    assert placed.stores[sid(5)].grades["footfall"].withheld == PeerWithholding.NO_VALUE


# --- configuration and input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"cut_points": (40, 85, 65)}, "cut_points must increase strictly: 65 follows 85"),
        ({"cut_points": (40, 40)}, "cut_points must increase strictly: 40 follows 40"),
        ({"cut_points": (0, 50)}, "cut_points must lie strictly between 0 and 100: 0 does not"),
        ({"cut_points": (50, 100)}, "cut_points must lie strictly between 0 and 100: 100 does not"),
        ({"cut_points": ()}, "cut_points needs at least one percentile"),
        ({"min_peers": 0}, "Input should be greater than or equal to 1"),
        ({"currency_unit": "0"}, "Input should be greater than 0"),
        ({"tiers": 7}, "Extra inputs are not permitted"),
    ],
)
def test_config_refuses_bad_values_with_a_reason(
    settings_: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        TierConfig.model_validate(settings_)
    assert message in str(refused.value)


def test_input_refuses_a_store_twice_a_warehouse_and_nan() -> None:
    with pytest.raises(InvalidPeerInput, match="given twice") as twice:
        tier_peers([counter(1, "1"), counter(1, "2")])
    assert (twice.value.code, twice.value.field) == ("invalid_peer_input", "store_id")
    warehouse = StoreFigures(sid(2), "lipstick", ChannelType.WAREHOUSE, Decimal(1), {})
    with pytest.raises(InvalidPeerInput, match="no peers") as refused:
        tier_peers([warehouse])
    assert refused.value.field == "format"
    with pytest.raises(InvalidPeerInput, match="conversion is nan") as nan:
        tier_peers([counter(3, "1", conversion=float("nan"))])
    assert nan.value.field == "conversion"
    with pytest.raises(InvalidPeerInput, match="GMV is not a number"):
        tier_peers([counter(4, "NaN")])


# --- acceptance: a 1,000-store organisation against numpy and scipy --------------------------


def generated_organisation(seed: int = 15) -> list[StoreFigures]:
    """1,000 stores over 4 categories × 6 formats with skewed group sizes, lognormal GMV
    (some zeros and negatives, ties from round amounts) and three metrics (some missing)."""
    rng = np.random.default_rng(seed)
    formats = sorted(ChannelType(value) for value in ChannelType if value != "warehouse")
    groups = [
        (category, fmt) for category in ("beauty", "snacks", "toys", "tea") for fmt in formats
    ]
    weights = rng.pareto(1.2, len(groups)) + 0.05
    sizes = np.maximum(1, np.floor(weights / weights.sum() * 1000)).astype(int)
    sizes[int(np.argmax(sizes))] += 1000 - int(sizes.sum())
    stores: list[StoreFigures] = []
    for (category, fmt), size in zip(groups, sizes, strict=True):
        for _ in range(size):
            draw = rng.random()
            if draw < 0.08:
                gmv = Decimal(0)
            elif draw < 0.09:
                gmv = -Decimal(int(rng.integers(1, 50_000))) / 100
            elif draw < 0.25:
                gmv = Decimal(int(rng.integers(1, 40)) * 1000)  # round amounts: ties
            else:
                gmv = Decimal(int(rng.lognormal(11, 1.6) * 100)) / 100
            conversion = None if rng.random() < 0.1 else float(rng.beta(2, 30))
            order_value = Decimal(int(rng.lognormal(5, 0.5) * 100)) / 100
            refund_rate = Decimal(int(rng.integers(0, 20))) / 100
            metrics = {
                "conversion": conversion,
                "order_value": order_value,
                "refund_rate": refund_rate,
            }
            stores.append(StoreFigures(sid(len(stores)), category, ChannelType(fmt), gmv, metrics))
    return stores


def numpy_tiers(stores: list[StoreFigures]) -> dict[uuid.UUID, int]:
    """Tiers by scipy's weak percentile rank (share at or below) over each group's stores
    with sales; a rank equal to a cut is not above it (1e-9: scipy's float rounding)."""
    tiers: dict[uuid.UUID, int] = {}
    for group in {store.group for store in stores}:
        members = [store for store in stores if store.group == group]
        gmv = np.array([float(store.gmv_30d) for store in members])
        sales = gmv[gmv > 0]
        ranks = percentileofscore(sales, gmv, kind="weak") if len(sales) else gmv * 0
        for store, amount, rank in zip(members, gmv, np.atleast_1d(ranks), strict=True):
            above = sum(1 for cut in CUTS if rank > cut + 1e-9)
            tiers[store.store_id] = 1 if amount <= 0 else 2 + above
    return tiers


def test_a_thousand_stores_match_an_independent_numpy_computation() -> None:
    stores = generated_organisation()
    assert len(stores) == 1000
    placed = tier_peers(stores, TierConfig(lower_is_better=frozenset({"refund_rate"})))
    expected_tiers = numpy_tiers(stores)
    assert {key: tier.tier for key, tier in placed.stores.items()} == expected_tiers
    tiers_seen = set(expected_tiers.values())
    assert tiers_seen == {1, 2, 3, 4, 5, 6, 7}

    published = 0
    for (group, tier), cell in placed.cells.items():
        members = [
            store
            for store in stores
            if store.group == group and expected_tiers[store.store_id] == tier
        ]
        assert cell.stores == len(members)
        if len(members) < 5:
            assert cell.withheld == PeerWithholding.TOO_FEW_STORES
            continue
        for name in ("conversion", "order_value", "refund_rate"):
            values = np.array(
                [float(value) for s in members if (value := s.metrics[name]) is not None]
            )
            benchmark = cell.metrics[name]
            if len(values) < 5:
                assert benchmark.withheld == PeerWithholding.TOO_FEW_VALUES
                continue
            published += 1
            statistics = benchmark.statistics
            assert statistics is not None
            assert statistics.values == len(values)
            p10, median, p90 = np.percentile(values, [10, 50, 90])
            for ours, theirs in [
                (statistics.mean, np.mean(values)),
                (statistics.median, median),
                (statistics.p10, p10),
                (statistics.p90, p90),
            ]:
                assert float(ours) == pytest.approx(float(theirs), rel=1e-12)
            for store in members:
                value = store.metrics[name]
                grade = placed.stores[store.store_id].grades[name].grade
                if value is None:
                    assert grade is None
                elif name == "refund_rate":
                    assert grade == (
                        Grade.EXCELLENT
                        if float(value) <= p10
                        else Grade.GOOD
                        if float(value) <= median
                        else Grade.POOR
                    )
                else:
                    assert grade == (
                        Grade.EXCELLENT
                        if float(value) >= p90
                        else Grade.GOOD
                        if float(value) >= median
                        else Grade.POOR
                    )
    assert published >= 30


def test_a_thousand_stores_next_tier_amounts_are_the_least_that_lift_the_tier() -> None:
    stores = generated_organisation()
    placed = tier_peers(stores)
    for group in {store.group for store in stores}:
        members = [store for store in stores if store.group == group]
        for store in members:
            mine = placed.stores[store.store_id]
            others = np.array(
                sorted(
                    float(other.gmv_30d)
                    for other in members
                    if other.gmv_30d > 0 and other.store_id != store.store_id
                )
            )
            if mine.tier == 7:
                assert mine.gmv_to_next_tier is None
                continue
            if mine.tier == 1:
                assert mine.gmv_to_next_tier == Decimal("0.01") - store.gmv_30d
                continue
            if len(others) < 5:
                assert mine.next_tier_withheld == PeerWithholding.TOO_FEW_STORES
                continue
            # brute force: the store's rank at each other store's GMV; the first that is
            # above the next tier's cut
            ranks = (np.searchsorted(others, others, side="right") + 1) / (len(others) + 1)
            cut = CUTS[mine.tier - 2]
            reaching = others[ranks * 100 > cut + 1e-9]
            assert mine.gmv_to_next_tier is not None
            assert float(mine.gmv_to_next_tier) == pytest.approx(
                reaching.min() - float(store.gmv_30d), abs=1e-6
            )


# --- properties -------------------------------------------------------------------------------

cents = st.integers(min_value=-500, max_value=5_000).map(lambda amount: Decimal(amount) / 100)


@settings(max_examples=100, deadline=None)
@given(st.lists(cents, min_size=1, max_size=60))
def test_higher_gmv_never_gets_a_lower_tier(gmvs: list[Decimal]) -> None:
    stores = [counter(number, str(gmv)) for number, gmv in enumerate(gmvs)]
    tiers = tiers_of(stores)
    for gmv_a, tier_a in zip(gmvs, tiers, strict=True):
        for gmv_b, tier_b in zip(gmvs, tiers, strict=True):
            if gmv_a < gmv_b:
                assert tier_a <= tier_b
            if gmv_a == gmv_b:
                assert tier_a == tier_b


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=300, unique=True),
    st.integers(min_value=0, max_value=20),
)
def test_tier_counts_follow_the_cut_points_within_rounding(gmvs: list[int], zeros: int) -> None:
    stores = [counter(number, gmv) for number, gmv in enumerate(gmvs)]
    stores += [counter(len(gmvs) + number, 0) for number in range(zeros)]
    tiers = tiers_of(stores)
    with_sales = len(gmvs)
    assert tiers.count(1) == zeros
    for tier, cut in enumerate(CUTS, start=3):
        at_or_above = sum(1 for found in tiers if found >= tier)
        # the stores above the cut: the top (100 − cut) %, rounded up to whole stores
        share = (100 - cut) * with_sales / 100
        assert share <= at_or_above < share + 1


@settings(max_examples=100, deadline=None)
@given(st.lists(cents, min_size=2, max_size=40), st.data())
def test_the_next_tier_amount_lifts_the_tier_and_a_cent_less_does_not(
    gmvs: list[Decimal], data: st.DataObject
) -> None:
    config = TierConfig(min_peers=1)
    stores = [counter(number, str(gmv)) for number, gmv in enumerate(gmvs)]
    chosen = data.draw(st.integers(min_value=0, max_value=len(gmvs) - 1))
    before = tier_peers(stores, config).stores[sid(chosen)]
    if before.gmv_to_next_tier is None:
        assert before.tier == config.top_tier
        return

    def tier_with(gmv: Decimal) -> int:
        moved = [*stores[:chosen], counter(chosen, str(gmv)), *stores[chosen + 1 :]]
        return tier_peers(moved, config).stores[sid(chosen)].tier

    assert before.gmv_to_next_tier > 0
    assert tier_with(gmvs[chosen] + before.gmv_to_next_tier) > before.tier
    assert tier_with(gmvs[chosen] + before.gmv_to_next_tier - Decimal("0.01")) == before.tier
