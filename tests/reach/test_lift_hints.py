"""What the lift report asks for next, from the figures; and the console's sample-ratio warning
and a campaign without a holdout."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.reach import lift
from newretail.reach.decide import Reason
from newretail.reach.lift_reads import Hint, hints, members_needed
from tests.conftest import Org, console_login
from tests.console_pages import text
from tests.reach.lift_data import T0, decision
from tests.reach.trigger_helpers import set_up


def _report(
    treated: tuple[int, int], holdout: tuple[int, int], share: float = 0.5
) -> lift.LiftReport:
    return lift.lift_report(
        lift.Arm(treated[0], treated[1]), lift.Arm(holdout[0], holdout[1]), holdout_share=share
    )


def test_each_hint_from_its_figures() -> None:
    assert hints(_report((1000, 300), (1000, 100))) == [Hint("lift_established")]
    assert hints(_report((1000, 100), (1000, 300))) == [Hint("lift_negative")]
    assert hints(_report((100, 10), (100, 10))) == [Hint("no_difference")]
    assert hints(_report((0, 0), (3, 1))) == [Hint("empty_arm")]
    # nobody reached while 100 were held out on a 50% split is a mismatch as well
    assert hints(_report((0, 0), (100, 10))) == [Hint("sample_ratio_mismatch"), Hint("empty_arm")]
    # 900 treated and 100 held out on a 50% split: broken, and said first
    assert hints(_report((900, 90), (100, 10))) == [
        Hint("sample_ratio_mismatch"),
        Hint("no_difference"),
    ]
    # without a configured holdout there is no ratio to miss
    assert hints(_report((900, 0), (0, 0), 0.01), holdout_configured=False) == [Hint("empty_arm")]
    # 12% against 10% on 500 + 500: h = 0.0640, (2.8016 / h)² / 0.25 = 7,669.7: 7,670 in all
    report = _report((500, 60), (500, 50))
    assert members_needed(report) == 7670 - 1000
    assert hints(report) == [Hint("not_significant", 6670)]


def test_the_console_warns_of_a_sample_ratio_mismatch(
    client: TestClient, container: Container, org: Org
) -> None:
    reach = set_up(container, org, members=40, holdout_percent=10)
    with session_scope(container.sessions, org.id) as session:
        for n, member in enumerate(reach.members):
            arm = Reason.TREATED if n % 2 else Reason.HOLDOUT  # 50% held out, 10% configured
            session.add(decision(reach, member, arm, T0, n, None))
    console_login(client, org.owner_email)
    page = client.get(f"/console/reach/campaigns/{reach.campaign.id}/lift")
    assert page.status_code == 200
    # χ² = (20 - 36)²/36 + (20 - 4)²/4 = 71.1 at 1 df
    assert f"{lift.sample_ratio_check(20, 20, 0.1).p_value:.2g}" == "3.4e-17"
    assert text(page.text, "srm-warning") == (
        "Sample ratio mismatch: 50.00 % of the members are in the holdout where 10.00 % was "
        "configured (p = 3.4e-17). The assignment or the recording is broken; do not trust any "
        "lift figure until it is explained."
    )
    assert page.text.split('data-code="')[1].startswith("sample_ratio_mismatch")


def test_a_campaign_without_holdout_has_no_ratio_to_check(
    client: TestClient, container: Container, org: Org
) -> None:
    reach = set_up(container, org, members=3)
    with session_scope(container.sessions, org.id) as session:
        for n, member in enumerate(reach.members):
            session.add(decision(reach, member, Reason.TREATED, T0, n, None))
    answer = client.get(f"/api/v1/reach/campaigns/{reach.campaign.id}/lift", headers=org.auth())
    body = answer.json()
    assert (body["sample_ratio"], body["holdout_percent"]) == (None, 0)
    assert (body["treated"]["members"], body["holdout"]["members"]) == (3, 0)
    assert [h["code"] for h in body["hints"]] == ["empty_arm"]
    console_login(client, org.owner_email)
    page = client.get(f"/console/reach/campaigns/{reach.campaign.id}/lift")
    assert "srm-warning" not in page.text
    assert text(page.text, "srm") == (
        "No holdout configured: nothing to check, and no lift can be measured."
    )
