"""`newretail member import` and `member show` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.members.models import ConsentChange, Member
from tests.conftest import Org
from tests.members.conftest import org_session

HEADER = "phone,member_card,account_id,name,gender,birth_year,city,marketing_consent\n"
GOOD = [
    "13800138000,VIP-1,,Li Lei,male,1990,Shanghai,yes",
    "139 0013 9000,,acc-2,Han Meimei,F,1992,Beijing,no",
    "+86 137-0013-7000,,,Wang Fang,女,1985,Hangzhou,",
    ",VIP-4,,Zhao Min,,,Shenzhen,yes",
    "13600136000,,,,other,2001,Shanghai,0",
]
BAD = [
    "12345,,,Bad Phone,female,1990,Shanghai,yes",  # row 7: phone
    "13500135000,,,Old,male,1850,Beijing,no",  # row 8: birth_year
    "138-0013-8000,VIP-4,,Again,male,1990,Shanghai,yes",  # row 9: phone of row 2, card of row 5
]


def run(container: Container, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            container.settings.resolved_database_url,
            "--data-dir",
            str(container.settings.data_dir),
            *args,
        ],
    )
    return result.exit_code, result.stdout


def test_import_commits_good_rows_and_reports_three_bad_ones(
    container: Container, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "members.csv"
    path.write_text(HEADER + "\n".join([*GOOD, *BAD]) + "\n", encoding="utf-8")
    code, stdout = run(
        container, "member", "import", "--org", org.slug, str(path), "--json", "--batch-size", "2"
    )
    assert code == 0, stdout
    report = json.loads(stdout)
    assert report["accepted"] == 5
    assert report["rejected"] == 3
    assert [(r["row"], r["field"]) for r in report["rejections"]] == [
        (7, "phone"),
        (8, "birth_year"),
        (9, "member_card"),
    ]
    assert report["rejections"][2]["reason"] == (
        "the phone and the member card belong to different members"
    )
    assert report["matched"] == 0
    with org_session(container, org) as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 5
        # marketing consent on 4 channels for the 2 "yes" rows and the 2 "no" rows
        assert session.scalar(select(func.count()).select_from(ConsentChange)) == 16
        assert set(session.scalars(select(ConsentChange.source))) == {"import"}

    code, stdout = run(
        container, "member", "show", "--org", org.slug, "--phone", "+8613800138000", "--json"
    )
    assert code == 0, stdout
    shown = json.loads(stdout)
    assert (shown["name"], shown["city"], shown["phone"]) == (
        "Li Lei",
        "Shanghai",
        "+8613800138000",
    )
    assert shown["points"]["available"] == 0
    assert len(shown["consent"]) == 4


def test_a_file_without_the_columns_is_refused(
    container: Container, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("mobile,name\n13800138000,Li\n", encoding="utf-8")
    code, _ = run(container, "member", "import", "--org", org.slug, str(path))
    assert code == 2


def test_rows_of_existing_members_update_them_matched_by_hashed_phone_or_card(
    container: Container, org: Org, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + GOOD[0] + "\n" + GOOD[3] + "\n", encoding="utf-8")
    assert run(container, "member", "import", "--org", org.slug, str(first), "--json")[0] == 0
    again = tmp_path / "again.csv"
    again.write_text(
        HEADER
        + "+86 138 0013 8000,,,Li Lei,male,1990,Suzhou,\n"  # Li Lei by phone, in any format
        + ",vip-4,,Zhao Min,,,Xiamen,\n"  # Zhao Min by card (cards are upper-cased)
        + "13700137000,,,New Person,,,Wuhan,\n",
        encoding="utf-8",
    )
    code, stdout = run(container, "member", "import", "--org", org.slug, str(again), "--json")
    assert code == 0, stdout
    report = json.loads(stdout)
    assert (report["accepted"], report["matched"], report["rejected"]) == (3, 2, 0)
    with org_session(container, org) as session:
        cities = dict(session.execute(select(Member.name, Member.city)).all())
    assert cities == {"Li Lei": "Suzhou", "Zhao Min": "Xiamen", "New Person": "Wuhan"}
